using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// Signed S3 requests to one server, path-style (<c>/bucket/key</c>), over the caller's <see cref="HttpClient"/>:
/// what <see cref="MinioObjectStore"/> sends, each request signed with <see cref="SigV4Signer"/> over exactly the path,
/// query and headers that go on the wire.
/// </summary>
internal sealed class S3Connection
{
    private static readonly UriCreationOptions AsWritten = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly HttpClient _http;
    private readonly SigV4Signer _signer;
    private readonly string _origin;
    private readonly TimeProvider _time;

    public S3Connection(MinioSettings settings, HttpClient http, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Endpoint);
        _http = http;
        _time = time ?? TimeProvider.System;
        _signer = new SigV4Signer(settings.AccessKey, settings.SecretKey, settings.Region);
        var origin = new Uri($"{(settings.Secure ? "https" : "http")}://{settings.Endpoint}/", UriKind.Absolute);
        // The Host header the client sends, and the one signed: Authority leaves out a default port, as HttpClient does.
        Host = origin.Authority;
        _origin = origin.GetLeftPart(UriPartial.Authority);
        Settings = settings;
    }

    /// <summary>The server's settings (for messages: <see cref="MinioSettings.ToString"/> has no secret).</summary>
    public MinioSettings Settings { get; }

    /// <summary>The <c>Host</c> header's value.</summary>
    public string Host { get; }

    /// <summary>
    /// Sends one request. <paramref name="key"/> null addresses the bucket; <paramref name="headers"/> are sent and
    /// signed as given; <paramref name="body"/>, when given, is sent with <paramref name="contentType"/>, its SHA-256
    /// signed. The caller disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string bucket, string? key,
        IReadOnlyList<KeyValuePair<string, string>>? query = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null,
        ReadOnlyMemory<byte>? body = null, string? contentType = null, byte[]? contentMd5 = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        string path = "/" + S3UriEncoding.Path(bucket) + (key is null ? "" : "/" + S3UriEncoding.Path(key));
        string canonicalQuery = query is { Count: > 0 } ? SigV4Signer.CanonicalQuery(query) : "";
        string payloadHash = body is { } payload ? SigV4Signer.PayloadHash(payload.Span) : SigV4Signer.EmptyPayloadHash;
        DateTimeOffset now = _time.GetUtcNow();

        var signed = new List<KeyValuePair<string, string>>(4 + (headers?.Count ?? 0))
        {
            new("host", Host),
            new("x-amz-date", SigV4Signer.Timestamp(now)),
            new("x-amz-content-sha256", payloadHash),
        };
        if (contentMd5 is not null)
        {
            signed.Add(new("content-md5", Convert.ToBase64String(contentMd5)));
        }

        if (headers is not null)
        {
            signed.AddRange(headers);
        }

        string authorization = _signer.Authorization(method.Method, path, canonicalQuery, signed, payloadHash, now);
        var uri = new Uri(_origin + path + (canonicalQuery.Length > 0 ? "?" + canonicalQuery : ""), in AsWritten);
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Host = Host;
        foreach (var (name, value) in signed)
        {
            if (name is not ("host" or "content-md5"))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (body is { } content)
        {
            request.Content = new ReadOnlyMemoryContent(content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/octet-stream");
            if (contentMd5 is not null)
            {
                request.Content.Headers.ContentMD5 = contentMd5;
            }
        }

        try
        {
            return await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient's own timeout, not the caller's cancellation: a slow server, worth asking again.
            throw new System.IO.IOException($"{method} {path} at {Settings} got no answer within {_http.Timeout.TotalSeconds:0.#} s.", e);
        }
    }
}
