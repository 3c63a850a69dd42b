using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Neutral.Storage;

namespace Neutral.Providers.Aws;

/// <summary>How to reach S3 (or an S3-compatible server) and which bucket holds the data.</summary>
/// <param name="Region">The AWS region (<c>us-east-1</c> ...); the signing region for an S3-compatible server.</param>
/// <param name="Bucket">The bucket.</param>
/// <param name="ServiceUrl">An S3-compatible server's address (path-style requests), or null for AWS's own S3.</param>
public sealed record S3Settings(string Region, string Bucket, Uri? ServiceUrl = null)
{
    /// <inheritdoc/>
    public override string ToString() => ServiceUrl is null ? $"s3://{Bucket} ({Region})" : $"{ServiceUrl.ToString().TrimEnd('/')}/{Bucket}";
}

/// <summary>
/// Neutral's object store on S3 through <c>AWSSDK.S3</c>: one bucket, keys mapped one to one to object keys.
/// Create-only writes are PUTs with <c>If-None-Match: *</c> (<c>412</c>: another attempt won); ranged reads are ranged
/// GETs; listings are paged (<c>ListObjectsV2</c>); prefix deletes go 1,000 keys a <c>DeleteObjects</c> request. Objects
/// of 64 MiB and more are uploaded in parallel parts and read with parallel ranged GETs.
/// </summary>
/// <remarks>
/// Against S3-compatible servers over plain HTTP the SDK's default request checksums and chunked payload framing
/// (<c>aws-chunked</c>) are turned off: checksums are sent only where the API requires them, and puts and part uploads
/// carry their bytes as they are.
/// </remarks>
public sealed class S3ObjectStore : IObjectStore, IBulkDeletingObjectStore, IDisposable
{
    /// <summary>Objects at or above this size are written in parts and read in parallel ranges.</summary>
    public const int LargeObject = 64 * 1024 * 1024;

    /// <summary>The size of one part of a large upload, and of one range of a large read.</summary>
    public const int PartSize = 16 * 1024 * 1024;

    private const int DeleteBatch = 1000;
    private const int Parallelism = 4;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;

    /// <summary>Creates a store with a client of its own, signing with the SDK's default credential chain.</summary>
    public S3ObjectStore(S3Settings settings)
        : this(settings, null)
    {
    }

    /// <summary>Creates a store with a client of its own, signing with <paramref name="credentials"/> (the SDK's default chain when null).</summary>
    public S3ObjectStore(S3Settings settings, AWSCredentials? credentials)
        : this(Connect(settings, credentials), settings, ownsClient: true)
    {
    }

    /// <summary>Creates a store with the given client (which the caller disposes).</summary>
    public S3ObjectStore(IAmazonS3 client, S3Settings settings)
        : this(client, settings, ownsClient: false)
    {
    }

    private S3ObjectStore(IAmazonS3 client, S3Settings settings, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Bucket);
        _client = client;
        _ownsClient = ownsClient;
        Settings = settings;
    }

    /// <summary>Where the store is.</summary>
    public S3Settings Settings { get; }

    private string Bucket => Settings.Bucket;

    /// <summary>An S3 client for <paramref name="settings"/>: path-style for an S3-compatible server, checksums only where required.</summary>
    public static IAmazonS3 Connect(S3Settings settings, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var config = new AmazonS3Config
        {
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            config.ForcePathStyle = true;
            config.AuthenticationRegion = settings.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(settings.Region);
        }

        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <summary>Creates the bucket when it does not exist yet.</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists" && e.StatusCode == HttpStatusCode.Conflict)
        {
            // There already; a bucket someone else owns fails at the first write with access denied.
        }
    }

    /// <inheritdoc/>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        if (data.Length >= LargeObject)
        {
            await PutInPartsAsync(key, data, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var stream = AsStream(data);
        await _client.PutObjectAsync(PutRequest(key, stream), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        for (int attempt = 1; ; attempt++)
        {
            using var stream = AsStream(data);
            PutObjectRequest request = PutRequest(key, stream);
            request.IfNoneMatch = "*";
            try
            {
                await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                return false;
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.Conflict && attempt < 10)
            {
                // 409 ConditionalRequestConflict: another conditional write of the key is in flight; ask again once it lands.
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private PutObjectRequest PutRequest(string key, Stream stream) => new()
    {
        BucketName = Bucket,
        Key = key,
        InputStream = stream,
        AutoCloseStream = false,
        UseChunkEncoding = false,
        ContentType = "application/octet-stream",
    };

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    private async Task PutInPartsAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        InitiateMultipartUploadResponse upload = await _client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key, ContentType = "application/octet-stream" }, cancellationToken).ConfigureAwait(false);
        try
        {
            int parts = (data.Length + PartSize - 1) / PartSize;
            var etags = new PartETag[parts];
            await Parallel.ForAsync(0, parts, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (i, token) =>
            {
                ReadOnlyMemory<byte> part = data.Slice(i * PartSize, Math.Min(PartSize, data.Length - (i * PartSize)));
                using var stream = AsStream(part);
                UploadPartResponse done = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Bucket,
                    Key = key,
                    UploadId = upload.UploadId,
                    PartNumber = i + 1,
                    InputStream = stream,
                    PartSize = part.Length,
                    UseChunkEncoding = false,
                }, token).ConfigureAwait(false);
                etags[i] = new PartETag(i + 1, done.ETag);
            }).ConfigureAwait(false);
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = [.. etags],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = upload.UploadId }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One ranged GET of the first part: small objects come whole in it; for a large one its <c>Content-Range</c> gives
    /// the size, and the other parts are read in parallel.
    /// </remarks>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        return await Providers.ParallelRanges.GetAsync((offset, length, token) => ReadRangeAsync(key, offset, length, token), PartSize, Parallelism, $"'{key}' in bucket '{Bucket}'", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return await ExistsAsync(key, cancellationToken).ConfigureAwait(false) ? [] : null;
        }

        return (await ReadRangeAsync(key, offset, length, cancellationToken).ConfigureAwait(false)).Bytes;
    }

    /// <summary>Bytes <paramref name="offset"/> to offset + length - 1 (cut at the end) and the object's size; null bytes when there is no object.</summary>
    private async Task<(byte[]? Bytes, long Total)> ReadRangeAsync(string key, long offset, int length, CancellationToken cancellationToken)
    {
        try
        {
            using GetObjectResponse response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                ByteRange = new ByteRange(offset, offset + length - 1),
            }, cancellationToken).ConfigureAwait(false);
            long size = response.ContentLength;
            byte[] bytes = size >= 0 ? new byte[size] : [];
            if (size >= 0)
            {
                await response.ResponseStream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                using var buffer = new MemoryStream();
                await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                bytes = buffer.ToArray();
            }

            // "bytes 0-99/1234": the total after the slash. A server that ignored the range sent it all: cut it here.
            long total = response.ContentRange is { } range && range.LastIndexOf('/') is int slash and >= 0 && long.TryParse(range.AsSpan(slash + 1), out long t)
                ? t : bytes.Length;
            if (response.HttpStatusCode == HttpStatusCode.OK && (offset > 0 || bytes.Length > length))
            {
                bytes = bytes.AsSpan((int)Math.Min(offset, bytes.Length), (int)Math.Clamp(bytes.Length - offset, 0, length)).ToArray();
            }

            return (bytes, total);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, 0);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The range starts at or past the end (an empty object included).
            return ([], 0);
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

        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix };
        while (true)
        {
            ListObjectsV2Response page = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (S3Object item in page.S3Objects ?? [])
            {
                yield return new ObjectInfo(item.Key, item.Size ?? 0);
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
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

        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
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
        DeleteObjectsResponse response = await _client.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = Bucket,
            Objects = keys.Select(k => new KeyVersion { Key = k }).ToList(),
            Quiet = true,
        }, cancellationToken).ConfigureAwait(false);
        if (response.DeleteErrors is { Count: > 0 } errors)
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
            await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }
}
