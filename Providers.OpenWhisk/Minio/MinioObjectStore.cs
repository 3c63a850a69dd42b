using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Minio;
using Minio.DataModel;
using Minio.DataModel.Args;
using Minio.Exceptions;
using Neutral.Storage;

namespace Neutral.Providers.OpenWhisk;

/// <summary>How to reach a MinIO (or any S3-compatible) server.</summary>
/// <param name="Endpoint">Host and port, e.g. <c>minio.example.com:9000</c> (no scheme).</param>
/// <param name="AccessKey">The access key.</param>
/// <param name="SecretKey">The secret key (never logged, never put in an envelope).</param>
/// <param name="Secure">Whether to use HTTPS.</param>
/// <param name="Region">The region the server signs for (<c>us-east-1</c> for MinIO and Ceph RGW by default).</param>
public sealed record MinioSettings(string Endpoint, string AccessKey, string SecretKey, bool Secure, string Region = "us-east-1")
{
    /// <inheritdoc/>
    public override string ToString() => $"{(Secure ? "https" : "http")}://{Endpoint} (access key {AccessKey})";
}

/// <summary>
/// Neutral's object store on a MinIO server (or any S3-compatible one: Ceph RGW, S3 itself) through the Minio client.
/// Keys map one to one to object names in one bucket. Create-only writes (<see cref="TryCreateAsync"/>) are conditional
/// PUTs with <c>If-None-Match: *</c>, which the server decides atomically.
/// </summary>
/// <remarks>
/// The Minio 7.0.0 client cannot send <c>If-None-Match</c> on a PUT: <c>PutObjectArgs.WithHeaders</c> turns every
/// header it does not know into user metadata (<c>x-amz-meta-if-none-match</c>), which the server stores and ignores,
/// so the write would silently replace. Create-only therefore signs the PUT with the client (a presigned URL, whose
/// signature covers the host only) and sends it with <see cref="HttpClient"/>, adding the header: <c>412 Precondition
/// Failed</c> means the object exists.
/// </remarks>
public sealed class MinioObjectStore : IObjectStore, IBulkDeletingObjectStore, IDisposable
{
    /// <summary>Objects per batch delete request (the S3 limit).</summary>
    private const int DeleteBatch = 1000;

    private readonly IMinioClient _client;
    private readonly HttpClient _http;
    private readonly bool _ownsClients;

    /// <summary>Creates a store over <paramref name="bucket"/> with a client of its own.</summary>
    public MinioObjectStore(MinioSettings settings, string bucket)
        : this(Connect(settings), bucket, new HttpClient(), ownsClients: true)
    {
    }

    /// <summary>Creates a store over <paramref name="bucket"/> with the given clients (which the caller disposes).</summary>
    public MinioObjectStore(IMinioClient client, string bucket, HttpClient http)
        : this(client, bucket, http, ownsClients: false)
    {
    }

    private MinioObjectStore(IMinioClient client, string bucket, HttpClient http, bool ownsClients)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentNullException.ThrowIfNull(http);
        _client = client;
        _http = http;
        _ownsClients = ownsClients;
        Bucket = bucket;
    }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>A Minio client for <paramref name="settings"/>.</summary>
    public static IMinioClient Connect(MinioSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new MinioClient()
            .WithEndpoint(settings.Endpoint)
            .WithCredentials(settings.AccessKey, settings.SecretKey)
            .WithSSL(settings.Secure)
            .WithRegion(settings.Region)
            .Build();
    }

    /// <summary>Creates the bucket when it does not exist yet.</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        if (!await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(Bucket), cancellationToken).ConfigureAwait(false))
        {
            await _client.MakeBucketAsync(new MakeBucketArgs().WithBucket(Bucket), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        // The caller's array as it is, not a copy (a 1 MiB put would copy a megabyte for nothing).
        using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        await _client.PutObjectAsync(new PutObjectArgs()
            .WithBucket(Bucket)
            .WithObject(key)
            .WithStreamData(stream)
            .WithObjectSize(data.Length)
            .WithContentType("application/octet-stream"), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        for (int attempt = 1; ; attempt++)
        {
            string url = await _client.PresignedPutObjectAsync(new PresignedPutObjectArgs()
                .WithBucket(Bucket)
                .WithObject(key)
                .WithExpiry(300)).ConfigureAwait(false);
            using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ReadOnlyMemoryContent(data) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    return true;
                case HttpStatusCode.PreconditionFailed:
                    return false;
                case HttpStatusCode.Conflict when attempt < 10:
                    // S3 answers 409 when another conditional write of the key is in flight: ask again once it lands.
                    await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                default:
                    string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    throw new IOException($"Create-only write of '{key}' in bucket '{Bucket}' failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}. {Trim(body)}");
            }
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        return await ReadAsync(new GetObjectArgs().WithBucket(Bucket).WithObject(key), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A ranged GET signed by the client (presigned) and sent with <see cref="HttpClient"/>, so that the server's own
    /// answers decide: 206 with the bytes (cut at the end), 416 when the range starts at or past the end, 404 when
    /// there is no object. (The Minio client reports some of these as exceptions with no detail.)
    /// </remarks>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return await ExistsAsync(key, cancellationToken).ConfigureAwait(false) ? [] : null;
        }

        string url = await _client.PresignedGetObjectAsync(new PresignedGetObjectArgs().WithBucket(Bucket).WithObject(key).WithExpiry(300)).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent:
                return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            case HttpStatusCode.OK:
                // A server that ignores ranges sends the whole object: cut it here.
                byte[] all = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                return all.AsSpan((int)Math.Min(offset, all.Length), (int)Math.Clamp(all.Length - offset, 0, length)).ToArray();
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                return [];
            case HttpStatusCode.NotFound:
                return null;
            default:
                string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw new IOException($"Reading bytes {offset} to {offset + length - 1} of '{key}' in bucket '{Bucket}' failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}. {Trim(body)}");
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0)
        {
            ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        }

        var args = new ListObjectsArgs().WithBucket(Bucket).WithPrefix(prefix).WithRecursive(true);
        await foreach (Item item in _client.ListObjectsEnumAsync(args, cancellationToken).ConfigureAwait(false))
        {
            if (!item.IsDir)
            {
                yield return new ObjectInfo(item.Key, (long)item.Size);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        // S3 answers a delete the same whether or not the object was there: look first.
        if (!await ExistsAsync(key, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await _client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(Bucket).WithObject(key), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        return this.DeleteInBatchesAsync(prefix, DeleteBatch, DeleteBatchAsync, cancellationToken);
    }

    private async Task<int> DeleteBatchAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        IList<DeleteError> errors = await _client.RemoveObjectsAsync(new RemoveObjectsArgs().WithBucket(Bucket).WithObjects(keys.ToList()), cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            DeleteError first = errors[0];
            throw new IOException($"Deleting {errors.Count} of {keys.Count} objects in bucket '{Bucket}' failed; the first, '{first.Key}': {first.Code} {first.Message}");
        }

        return keys.Count;
    }

    private async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.StatObjectAsync(new StatObjectArgs().WithBucket(Bucket).WithObject(key), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }

    private async Task<byte[]?> ReadAsync(GetObjectArgs args, CancellationToken cancellationToken)
    {
        byte[]? data = null;
        try
        {
            await _client.GetObjectAsync(args.WithCallbackStream(async (stream, token) =>
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, token).ConfigureAwait(false);
                data = buffer.ToArray();
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }

        return data ?? [];
    }

    private static string Trim(string text) => text.Length <= 300 ? text : text[..300] + "...";

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsClients)
        {
            _client.Dispose();
            _http.Dispose();
        }
    }
}
