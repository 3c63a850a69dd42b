using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Neutral.Storage;

namespace Neutral.Providers.Azure;

/// <summary>How to reach a storage account's Blob service and which container holds the data.</summary>
/// <param name="Container">The container (created if missing).</param>
/// <param name="ConnectionString">A storage connection string (account key or SAS), or null to use <paramref name="AccountUrl"/> with an Entra ID credential.</param>
/// <param name="AccountUrl">The Blob service's address (<c>https://{account}.blob.core.windows.net/</c>) when there is no connection string.</param>
public sealed record BlobSettings(string Container, string? ConnectionString = null, Uri? AccountUrl = null)
{
    /// <summary>Where the account is, never a secret: the service address and the container.</summary>
    public override string ToString() => $"{ServiceUri().ToString().TrimEnd('/')}/{Container}";

    /// <summary>The Blob service's address: <see cref="AccountUrl"/>, or the one the connection string names.</summary>
    public Uri ServiceUri() => AccountUrl ?? new BlobServiceClient(ConnectionString).Uri;
}

/// <summary>
/// Neutral's object store on Azure Blob storage through <c>Azure.Storage.Blobs</c>: one container, keys mapped one to
/// one to block blob names. Create-only writes carry <c>If-None-Match: *</c> (<c>409 BlobAlreadyExists</c> or
/// <c>412</c>: another attempt won); ranged reads are ranged GETs; listings are paged. Blobs of 64 MiB and more are
/// uploaded as 16 MiB blocks, four at a time, and read in parallel 16 MiB ranges.
/// </summary>
/// <remarks>
/// Prefix deletes list and delete blob by blob, sixteen at a time: the Blob batch API's client package
/// (<c>Azure.Storage.Blobs.Batch</c>) is not available to this build (see docs/azure.md).
/// </remarks>
public sealed class BlobObjectStore : IObjectStore, IBulkDeletingObjectStore, IDisposable
{
    /// <summary>Blobs at or above this size are written in blocks and read in parallel ranges.</summary>
    public const int LargeObject = 64 * 1024 * 1024;

    /// <summary>The size of one block of a large upload, and of one range of a large read.</summary>
    public const int PartSize = 16 * 1024 * 1024;

    private const int Parallelism = 4;
    private const int DeleteParallelism = 16;

    private readonly BlobContainerClient _container;

    /// <summary>Creates a store for <paramref name="settings"/>, with a client of its own.</summary>
    public BlobObjectStore(BlobSettings settings)
        : this(Connect(settings).GetBlobContainerClient(settings?.Container), settings!)
    {
    }

    /// <summary>Creates a store on the given container client.</summary>
    public BlobObjectStore(BlobContainerClient container, BlobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(settings);
        _container = container;
        Settings = settings;
    }

    /// <summary>Where the store is.</summary>
    public BlobSettings Settings { get; }

    /// <summary>The container's address (no credential in it): what workers are told.</summary>
    public Uri ContainerUri => _container.Uri;

    /// <summary>A Blob service client for <paramref name="settings"/>: the connection string, else the account URL with <see cref="DefaultAzureCredential"/>.</summary>
    public static BlobServiceClient Connect(BlobSettings settings, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Container);
        var options = new BlobClientOptions();
        if (settings.ConnectionString is { Length: > 0 } connection)
        {
            return new BlobServiceClient(connection, options);
        }

        Uri account = settings.AccountUrl ?? throw new ArgumentException("Either a connection string or an account URL is needed.", nameof(settings));
        return new BlobServiceClient(account, credential ?? new DefaultAzureCredential(), options);
    }

    /// <summary>Creates the container when it does not exist yet.</summary>
    public async Task EnsureContainerAsync(CancellationToken cancellationToken = default) =>
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

    private static StorageTransferOptions Transfer => new()
    {
        // Below LargeObject: one Put Blob. From it: Put Block of PartSize, Parallelism at a time, then Put Block List.
        InitialTransferSize = LargeObject - 1,
        MaximumTransferSize = PartSize,
        MaximumConcurrency = Parallelism,
    };

    /// <inheritdoc/>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        await _container.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(data), new BlobUploadOptions { TransferOptions = Transfer }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        try
        {
            await _container.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(data), new BlobUploadOptions
            {
                TransferOptions = Transfer,
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One ranged GET of the first <see cref="PartSize"/>: small blobs come whole in it; for a large one its
    /// <c>Content-Range</c> gives the size, and the other ranges are read in parallel.
    /// </remarks>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        return await Providers.ParallelRanges.GetAsync((offset, length, token) => ReadRangeAsync(key, offset, length, token), PartSize, Parallelism, $"'{key}' in {Settings}", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return (await _container.GetBlobClient(key).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value ? [] : null;
        }

        return (await ReadRangeAsync(key, offset, length, cancellationToken).ConfigureAwait(false)).Bytes;
    }

    /// <summary>Bytes <paramref name="offset"/> to offset + length - 1 (cut at the end) and the blob's size; null bytes when there is no blob.</summary>
    private async Task<(byte[]? Bytes, long Total)> ReadRangeAsync(string key, long offset, int length, CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobDownloadStreamingResult> response = await _container.GetBlobClient(key)
                .DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length) }, cancellationToken).ConfigureAwait(false);
            using BlobDownloadStreamingResult result = response.Value;
            long size = result.Details.ContentLength;
            byte[] bytes = new byte[size];
            await result.Content.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);

            // "bytes 0-99/1234": the total after the slash. A whole-blob answer (200, no range) is its own total.
            long total = result.Details.ContentRange is { } range && range.LastIndexOf('/') is int slash and >= 0
                && long.TryParse(range.AsSpan(slash + 1), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long t)
                ? t : bytes.Length;
            if (response.GetRawResponse().Status == 200 && (offset > 0 || bytes.Length > length))
            {
                bytes = bytes.AsSpan((int)Math.Min(offset, bytes.Length), (int)Math.Clamp(bytes.Length - offset, 0, length)).ToArray();
            }

            return (bytes, total);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, 0);
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            // A range past the end of a blob that exists (an empty blob has no range at all).
            return ([], 0);
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await foreach (BlobItem item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix.Length == 0 ? null : prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return new ObjectInfo(item.Name, item.Properties.ContentLength ?? 0);
        }
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        return (await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <inheritdoc/>
    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default) =>
        this.DeleteInBatchesAsync(prefix, 256, async (keys, token) =>
        {
            int deleted = 0;
            await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = token }, async (key, inner) =>
            {
                if ((await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: inner).ConfigureAwait(false)).Value)
                {
                    Interlocked.Increment(ref deleted);
                }
            }).ConfigureAwait(false);
            return deleted;
        }, cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        // The SDK's clients hold no disposable resources of their own (their HTTP pipeline is shared).
    }
}
