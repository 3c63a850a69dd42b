using System;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers.Azure.Worker;
using Xunit;

namespace Neutral.Providers.Azure.Tests;

/// <summary>The custom handler's listener starts while the host connects to its port, as the Functions host does to learn when it is up.</summary>
public sealed class FunctionsHandlerListenerTests
{
    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    [Fact]
    public async Task The_listener_starts_and_serves_while_connections_arrive_during_its_start()
    {
        // The managed HttpListener fails its start when a connection arrives in the middle of it (dotnet/corefx#35191);
        // connecting in a tight loop hits that window in a good share of starts on this kind of machine.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        for (int i = 0; i < 300; i++)
        {
            int port = FreePort();
            using var stop = new CancellationTokenSource();
            // Synchronous connects on a thread of their own: as dense as this machine allows.
            var knocker = new Thread(() =>
            {
                var address = new IPEndPoint(IPAddress.Loopback, port);
                while (!stop.IsCancellationRequested)
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        socket.Connect(address);
                    }
                    catch (SocketException)
                    {
                    }
                }
            });
            knocker.Start();
            Task knocking = Task.Run(knocker.Join);
            try
            {
                using HttpListener listener = FunctionsHandler.StartListener(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.True(listener.IsListening);
                stop.Cancel();
                await knocking;

                Task<HttpResponseMessage> request = http.GetAsync(new Uri($"http://127.0.0.1:{port}/ping"));
                HttpListenerContext context = await listener.GetContextAsync();
                Assert.Equal("/ping", context.Request.Url!.AbsolutePath);
                context.Response.StatusCode = 204;
                context.Response.Close();
                using HttpResponseMessage response = await request;
                Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            }
            finally
            {
                stop.Cancel();
                await knocking;
            }
        }
    }
}
