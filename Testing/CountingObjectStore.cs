using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Testing;

/// <summary>
/// Wraps a store and counts its requests by kind as a cloud store would bill them: a listing costs one LIST request per
/// page of <see cref="PageSize"/> keys (S3's and MinIO's page; at least one per listing), a put or create one PUT, a read
/// one GET, a delete one DELETE. For benchmarks and tests of what a protocol costs.
/// </summary>
public sealed class CountingObjectStore : IObjectStore, IBulkDeletingObjectStore, IObjectStoreWrapper
{
    private readonly IObjectStore _inner;
    private long _lists;
    private long _listedKeys;
    private long _puts;
    private long _gets;
    private long _deletes;
    private long _largestListing;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public CountingObjectStore(IObjectStore inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>Keys per LIST request.</summary>
    public const int PageSize = 1000;

    /// <inheritdoc/>
    public IObjectStore Inner => _inner;

    /// <summary>LIST requests (pages) so far.</summary>
    public long Lists => Interlocked.Read(ref _lists);

    /// <summary>Keys returned by listings so far.</summary>
    public long ListedKeys => Interlocked.Read(ref _listedKeys);

    /// <summary>The most keys one listing returned.</summary>
    public long LargestListing => Interlocked.Read(ref _largestListing);

    /// <summary>PUT requests (puts and creates) so far.</summary>
    public long Puts => Interlocked.Read(ref _puts);

    /// <summary>GET requests (reads and ranged reads) so far.</summary>
    public long Gets => Interlocked.Read(ref _gets);

    /// <summary>DELETE requests so far (a bulk delete counts one per page of keys).</summary>
    public long Deletes => Interlocked.Read(ref _deletes);

    /// <summary>Sets every count back to zero.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _lists, 0);
        Interlocked.Exchange(ref _listedKeys, 0);
        Interlocked.Exchange(ref _largestListing, 0);
        Interlocked.Exchange(ref _puts, 0);
        Interlocked.Exchange(ref _gets, 0);
        Interlocked.Exchange(ref _deletes, 0);
    }

    /// <summary>
    /// Called with each key once its write has succeeded (a put, or a create that created), on the writer's thread: a
    /// benchmark times what happened after a write with it.
    /// </summary>
    public Action<string>? Written { get; set; }

    /// <summary>
    /// Called with each key read (a get or a ranged get), before the read, on the reader's thread: a test sees which
    /// objects were read, and how often.
    /// </summary>
    public Action<string>? Reading { get; set; }

    /// <inheritdoc/>
    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _puts);
        Task put = _inner.PutAsync(key, data, cancellationToken);
        return Written is null ? put : AfterAsync(put, key);
    }

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _puts);
        Task<bool> create = _inner.TryCreateAsync(key, data, cancellationToken);
        return Written is null ? create : AfterCreateAsync(create, key);
    }

    private async Task AfterAsync(Task put, string key)
    {
        await put.ConfigureAwait(false);
        Written?.Invoke(key);
    }

    private async Task<bool> AfterCreateAsync(Task<bool> create, string key)
    {
        bool created = await create.ConfigureAwait(false);
        if (created)
        {
            Written?.Invoke(key);
        }

        return created;
    }

    /// <inheritdoc/>
    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        Reading?.Invoke(key);
        return _inner.GetAsync(key, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        Reading?.Invoke(key);
        return _inner.GetRangeAsync(key, offset, length, cancellationToken);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long keys = 0;
        Interlocked.Increment(ref _lists);
        try
        {
            await foreach (ObjectInfo info in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                if (++keys % PageSize == 1 && keys > 1)
                {
                    Interlocked.Increment(ref _lists);
                }

                yield return info;
            }
        }
        finally
        {
            Interlocked.Add(ref _listedKeys, keys);
            long seen = Interlocked.Read(ref _largestListing);
            while (keys > seen && Interlocked.CompareExchange(ref _largestListing, keys, seen) != seen)
            {
                seen = Interlocked.Read(ref _largestListing);
            }
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _deletes);
        return _inner.DeleteAsync(key, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        int deleted = await _inner.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _deletes, Math.Max(1, (deleted + PageSize - 1) / PageSize));
        return deleted;
    }
}
