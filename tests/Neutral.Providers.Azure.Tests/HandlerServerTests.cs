using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers.Azure.Worker;
using Xunit;

namespace Neutral.Providers.Azure.Tests;

/// <summary>The custom handler's HTTP server, as the Functions host uses it.</summary>
public sealed class HandlerServerTests
{
    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>Answers with the path and the body: <c>{path}:{body}</c>.</summary>
    private static Task<(int Status, byte[] Body)> Echo(string path, byte[] body, CancellationToken cancellationToken) => path == "throw"
        ? throw new InvalidOperationException("the handler broke")
        : Task.FromResult((path == "missing" ? 404 : 200, Encoding.UTF8.GetBytes(path + ":" + Encoding.UTF8.GetString(body))));

    private static async Task<T> WithServerAsync<T>(Func<int, Task<T>> use, int port = 0)
    {
        using var server = new HandlerServer(port);
        using var stop = new CancellationTokenSource();
        Task serving = server.ServeAsync(Echo, stop.Token);
        try
        {
            return await use(server.Port);
        }
        finally
        {
            stop.Cancel();
            await serving;
        }
    }

    [Fact]
    public async Task It_serves_requests_that_arrive_while_it_starts()
    {
        // The host connects to the port until the handler is up. The managed HttpListener failed its start when a
        // connection came in the middle of it (dotnet/corefx#35191), and lost that connection: a thread connecting in
        // a tight loop hit that in every run of 300 starts here.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        for (int i = 0; i < 300; i++)
        {
            int port = FreePort();
            using var knocking = new CancellationTokenSource();
            var knocker = new Thread(() =>
            {
                var address = new IPEndPoint(IPAddress.Loopback, port);
                while (!knocking.IsCancellationRequested)
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
            try
            {
                string reply = await WithServerAsync(async p =>
                {
                    using HttpResponseMessage response = await http.PostAsync(new Uri($"http://127.0.0.1:{p}/call"), new StringContent("x" + i));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    return await response.Content.ReadAsStringAsync();
                }, port);
                Assert.Equal("call:x" + i, reply);
            }
            finally
            {
                knocking.Cancel();
                knocker.Join();
            }
        }
    }

    [Fact]
    public async Task Requests_on_one_kept_alive_connection_are_answered_in_turn_with_their_status()
    {
        using var http = new HttpClient();
        await WithServerAsync(async port =>
        {
            for (int i = 0; i < 3; i++)
            {
                using HttpResponseMessage response = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/invoke?code=k"), new StringContent("{\"n\":" + i + "}"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
                Assert.Equal("invoke:{\"n\":" + i + "}", await response.Content.ReadAsStringAsync());
            }

            // The host's readiness ping: answered without a call.
            using HttpResponseMessage ping = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/"));
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
            Assert.Equal("{}", await ping.Content.ReadAsStringAsync());

            using HttpResponseMessage missing = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/missing"), new StringContent(""));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            return 0;
        });
    }

    [Fact]
    public async Task A_chunked_body_and_an_expect_continue_request_are_read_whole()
    {
        using var http = new HttpClient();
        string text = new('z', 100_000);
        await WithServerAsync(async port =>
        {
            // A stream of unknown length goes chunked.
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{port}/call"))
            {
                Content = new StreamContent(new UnseekableStream(Encoding.UTF8.GetBytes(text))),
            };
            request.Headers.ExpectContinue = true;
            using HttpResponseMessage response = await http.SendAsync(request);
            Assert.Equal("call:" + text, await response.Content.ReadAsStringAsync());
            return 0;
        });
    }

    [Fact]
    public async Task A_malformed_request_is_answered_400_and_the_connection_closed()
    {
        await WithServerAsync(async port =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            await socket.SendAsync("NONSENSE\r\n\r\n"u8.ToArray());
            string reply = await ReadToEndAsync(socket);
            Assert.StartsWith("HTTP/1.1 400 ", reply, StringComparison.Ordinal);
            Assert.Contains("not an HTTP/1.x request line", reply, StringComparison.Ordinal);
            return 0;
        });
    }

    [Fact]
    public async Task A_handler_that_throws_is_answered_500_and_the_connection_serves_on()
    {
        using var http = new HttpClient();
        await WithServerAsync(async port =>
        {
            using HttpResponseMessage broken = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/throw"), new StringContent("x"));
            Assert.Equal(HttpStatusCode.InternalServerError, broken.StatusCode);
            Assert.Contains("System.InvalidOperationException: the handler broke", await broken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using HttpResponseMessage next = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/call"), new StringContent("y"));
            Assert.Equal("call:y", await next.Content.ReadAsStringAsync());
            return 0;
        });
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_400_before_it_is_read()
    {
        await WithServerAsync(async port =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"POST /call HTTP/1.1\r\nHost: x\r\nContent-Length: {HandlerServer.MaxBodyBytes + 1L}\r\n\r\n"));
            string reply = await ReadToEndAsync(socket);
            Assert.StartsWith("HTTP/1.1 400 ", reply, StringComparison.Ordinal);
            Assert.Contains($"a body larger than {HandlerServer.MaxBodyBytes} bytes", reply, StringComparison.Ordinal);
            return 0;
        });
    }

    [Fact]
    public async Task A_request_asking_to_close_is_answered_then_the_connection_closes()
    {
        await WithServerAsync(async port =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            await socket.SendAsync("POST /call HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"u8.ToArray());
            // Read to the end: only a closed connection ends it.
            string reply = await ReadToEndAsync(socket);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", reply, StringComparison.Ordinal);
            Assert.Contains("Connection: close\r\n", reply, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\ncall:hi", reply, StringComparison.Ordinal);
            return 0;
        });
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await reader.ReadToEndAsync(timeout.Token);
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
