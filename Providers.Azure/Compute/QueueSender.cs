using System;
using System.Buffers.Text;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Web;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Sas;

namespace Neutral.Providers.Azure.Compute;

/// <summary>
/// The send path for one queue whose client holds the account key: one <c>POST {queue}/messages</c> per message over
/// <see cref="HttpClient"/>, authorized by a queue SAS that allows adding messages only (made from the client's key,
/// an hour long, renewed ten minutes before it ends), so a send signs nothing. The Azure SDK's pipeline spent about
/// 480 µs of client CPU per <c>Put Message</c> (signing, policies, XML); this path is what a send costs the client
/// when thousands go out a second. Failures are <see cref="RequestFailedException"/>s with the service's status and
/// <c>x-ms-error-code</c>, as the SDK's are; a lost connection, <c>408</c>, <c>502</c>, <c>504</c> and <c>500</c>
/// other than <c>OperationTimedOut</c> are tried again, twice.
/// </summary>
internal sealed class QueueSender : IDisposable
{
    /// <summary>How long a SAS is made for.</summary>
    public static readonly TimeSpan SasLifetime = TimeSpan.FromHours(1);

    /// <summary>How long before its end a SAS is replaced.</summary>
    public static readonly TimeSpan SasRenewal = TimeSpan.FromMinutes(10);

    private const int Tries = 3;
    private const int MaxConnections = 16;
    private static readonly byte[] Prefix = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>");
    private static readonly byte[] Suffix = Encoding.UTF8.GetBytes("</MessageText></QueueMessage>");
    private static readonly System.Net.Http.Headers.MediaTypeHeaderValue Xml = new("application/xml");

    private readonly QueueClient _queue;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly Lock _lock = new();
    private Signed? _signed;

    private sealed record Signed(Uri Messages, string Version, DateTimeOffset ExpiresOn);

    public QueueSender(QueueClient queue, TimeProvider time)
    {
        if (!queue.CanGenerateSasUri)
        {
            throw new ArgumentException("the queue client has no account key to sign with", nameof(queue));
        }

        _queue = queue;
        _time = time;
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // More connections than this add no throughput from one client (measured against Azurite: 16 in flight sent
            // more per second than 64); the rest wait for a connection here instead of in the service.
            MaxConnectionsPerServer = MaxConnections,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>When the SAS in use ends (null before the first send).</summary>
    public DateTimeOffset? SasExpiresOn => _signed?.ExpiresOn;

    /// <summary>Adds one message whose text is the base64 of <paramref name="message"/> (as the Functions queue trigger reads it).</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        byte[] body = Body(message.Span);
        for (int attempt = 1; ; attempt++)
        {
            Signed signed = Current();
            using var request = new HttpRequestMessage(HttpMethod.Post, signed.Messages) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = Xml;
            request.Headers.TryAddWithoutValidation("x-ms-version", signed.Version);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (attempt < Tries)
            {
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt < Tries)
                {
                    continue;
                }

                throw new RequestFailedException(408, $"Put Message to {_queue.Uri} timed out after {_http.Timeout.TotalSeconds:0} s.", "OperationTimedOut", e);
            }

            using (response)
            {
                int status = (int)response.StatusCode;
                if (status is 201 or 204)
                {
                    return;
                }

                string? code = response.Headers.TryGetValues("x-ms-error-code", out var values) ? string.Join(",", values) : null;
                if (attempt < Tries && (status is 408 or 502 or 504 || (status == 500 && code != "OperationTimedOut")))
                {
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (status == 403 && code == "AuthenticationFailed" && attempt < Tries)
                {
                    // A SAS the service no longer takes (a clock far off ours, a key rotated under us): a fresh one, once more.
                    lock (_lock)
                    {
                        _signed = null;
                    }

                    continue;
                }

                throw new RequestFailedException(status, $"Put Message to {_queue.Uri} answered {status} {response.ReasonPhrase}{(code is null ? "" : " (" + code + ")")}.", code, null);
            }
        }
    }

    /// <summary>The request body: the message's base64 in the service's XML, with no copy beyond the one array.</summary>
    private static byte[] Body(ReadOnlySpan<byte> message)
    {
        int encoded = Base64.GetMaxEncodedToUtf8Length(message.Length); // exact: base64 pads to whole quads
        byte[] body = new byte[Prefix.Length + encoded + Suffix.Length];
        Prefix.CopyTo(body, 0);
        Base64.EncodeToUtf8(message, body.AsSpan(Prefix.Length), out _, out int written);
        Suffix.CopyTo(body, Prefix.Length + written);
        return body;
    }

    private Signed Current()
    {
        Signed? signed = _signed;
        DateTimeOffset now = _time.GetUtcNow();
        if (signed is not null && now < signed.ExpiresOn - SasRenewal)
        {
            return signed;
        }

        lock (_lock)
        {
            if (_signed is { } fresh && now < fresh.ExpiresOn - SasRenewal)
            {
                return fresh;
            }

            DateTimeOffset expires = now + SasLifetime;
            Uri sas = _queue.GenerateSasUri(QueueSasPermissions.Add, expires);
            string version = HttpUtility.ParseQueryString(sas.Query)["sv"] ?? throw new InvalidOperationException("the SAS has no service version");
            var messages = new UriBuilder(sas);
            messages.Path = messages.Path.TrimEnd('/') + "/messages";
            _signed = new Signed(messages.Uri, version, expires);
            return _signed;
        }
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(50 * attempt * attempt);

    public void Dispose() => _http.Dispose();
}
