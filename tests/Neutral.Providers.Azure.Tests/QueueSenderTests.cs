using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using Azure.Storage.Queues;
using Microsoft.Extensions.Time.Testing;
using Neutral.Providers.Azure.Compute;
using Neutral.Wire;

namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// The lean send path (<see cref="QueueSender"/>): against Azurite for what a send puts on the queue and for its SAS,
/// and against a Queue endpoint answering what Azurite never does (503 ServerBusy, 500 OperationTimedOut, a passing
/// 500) for the contract's throttling and the retries.
/// </summary>
public sealed class QueueSenderTests(BlobContainer container) : IClassFixture<BlobContainer>
{
    [Fact]
    public async Task A_send_puts_the_envelope_base64_encoded_under_an_add_only_SAS_renewed_before_it_ends()
    {
        string name = "sender-" + Guid.NewGuid().ToString("N")[..12];
        var queue = new QueueClient(container.ConnectionString, name, FunctionsComputeBackend.QueueOptions());
        await queue.CreateAsync();
        try
        {
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            using var sender = new QueueSender(queue, clock);
            byte[] envelope = WireJson.Serialize(Envelope(3));
            await sender.SendAsync(envelope, default);
            DateTimeOffset first = sender.SasExpiresOn!.Value;
            Assert.Equal(clock.GetUtcNow() + QueueSender.SasLifetime, first);

            // Still valid: the same SAS; within the renewal margin of its end: a new one, and the send works.
            clock.Advance(QueueSender.SasLifetime - QueueSender.SasRenewal - TimeSpan.FromMinutes(1));
            await sender.SendAsync(envelope, default);
            Assert.Equal(first, sender.SasExpiresOn);
            clock.Advance(TimeSpan.FromMinutes(2));
            await sender.SendAsync(envelope, default);
            Assert.Equal(clock.GetUtcNow() + QueueSender.SasLifetime, sender.SasExpiresOn);

            // What the Functions trigger reads: the base64 of the envelope's JSON, decoded by the base64 client.
            var received = (await queue.ReceiveMessagesAsync(3)).Value;
            Assert.Equal(3, received.Length);
            Assert.All(received, m => Assert.Equal(3, WireJson.DeserializeEnvelope(m.Body.ToArray()).CallIndex));
        }
        finally
        {
            await queue.DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task A_backend_with_the_account_key_sends_through_the_lean_path_and_maps_the_services_answers()
    {
        await using var endpoint = new QueueEndpoint();
        var queue = new QueueClient(endpoint.ConnectionString, "calls", FunctionsComputeBackend.QueueOptions());
        var location = new StoreLocation(AzureProvider.StoreKind, "http://127.0.0.1:10000/devstoreaccount1/jobs", Cloud.InternalPrefix);
        await using var backend = new FunctionsComputeBackend(new FunctionsSettings("app", "calls"), queue, location);

        // 500 InternalError twice, then created: retried, one message.
        endpoint.Answers.Enqueue((500, "InternalError"));
        endpoint.Answers.Enqueue((500, "InternalError"));
        await backend.InvokeAsync(Envelope(1));
        Assert.Equal(3, endpoint.Requests.Count);
        Assert.All(endpoint.Requests, r => Assert.Contains("sp=a", r.Query, StringComparison.Ordinal));
        Assert.All(endpoint.Requests, r => Assert.Equal("/devstoreaccount1/calls/messages", r.Path));
        Assert.Equal(1, WireJson.DeserializeEnvelope(Convert.FromBase64String(XDocument.Parse(endpoint.Requests.Last().Body).Root!.Element("MessageText")!.Value)).CallIndex);

        // Busy: the contract's throttling, at once (the executor slows down and retries without spending an attempt).
        endpoint.Answers.Enqueue((503, "ServerBusy"));
        var busy = await Assert.ThrowsAsync<ThrottledException>(() => backend.InvokeAsync(Envelope(2)).AsTask());
        Assert.Contains("ServerBusy", busy.Message, StringComparison.Ordinal);
        endpoint.Answers.Enqueue((500, "OperationTimedOut"));
        await Assert.ThrowsAsync<ThrottledException>(() => backend.InvokeAsync(Envelope(2)).AsTask());

        // No queue: deploy first; refused credentials: which setting or role.
        endpoint.Answers.Enqueue((404, "QueueNotFound"));
        Assert.Contains("deploy the worker first", (await Assert.ThrowsAsync<InvalidOperationException>(() => backend.InvokeAsync(Envelope(3)).AsTask())).Message, StringComparison.Ordinal);
        for (int i = 0; i < 3; i++)
        {
            endpoint.Answers.Enqueue((403, "AuthenticationFailed"));
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => backend.InvokeAsync(Envelope(4)).AsTask());
        Assert.Contains("Neutral:Azure:ConnectionString", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobContainer.AccountKey, refused.Message, StringComparison.Ordinal);
    }

    private static InvocationEnvelope Envelope(int index)
    {
        var call = Remote.QueueFunctions.Square(index);
        return new InvocationEnvelope
        {
            JobId = "job",
            CallIndex = index,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            InlineInput = call.Arguments.ToArray(),
            Attempt = 1,
            Store = new StoreLocation(AzureProvider.StoreKind, "http://127.0.0.1:10000/devstoreaccount1/jobs", Cloud.InternalPrefix),
        };
    }

    /// <summary>A Queue service endpoint that answers each <c>Put Message</c> from <see cref="Answers"/> (then 201), recording the requests.</summary>
    private sealed class QueueEndpoint : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public QueueEndpoint()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={BlobContainer.AccountKey};QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
            _serving = ServeAsync();
        }

        public string ConnectionString { get; }

        public ConcurrentQueue<(int Status, string Code)> Answers { get; } = new();

        public ConcurrentQueue<(string Path, string Query, string Body)> Requests { get; } = new();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                {
                    Requests.Enqueue((context.Request.Url!.AbsolutePath, context.Request.Url.Query, await reader.ReadToEndAsync()));
                }

                if (Answers.TryDequeue(out var answer))
                {
                    context.Response.StatusCode = answer.Status;
                    context.Response.Headers["x-ms-error-code"] = answer.Code;
                }
                else
                {
                    context.Response.StatusCode = 201;
                }

                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _serving;
        }
    }
}
