using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Testing;

/// <summary>
/// An object store in memory: atomic create-only, ordered listings that cost in proportion to what they return (a
/// sorted index of the keys, as a cloud store lists by prefix). For the simulated cloud.
/// </summary>
public sealed class InMemoryObjectStore : IObjectStore, IBulkDeletingObjectStore
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _index = new(StringComparer.Ordinal);
    private readonly Lock _indexLock = new();

    private long _listingTicks;
    private int _listings;

    /// <summary>How many listings it served.</summary>
    public int Listings => Volatile.Read(ref _listings);

    /// <summary>The time spent gathering and sorting listings (the server's side of a listing), excluding the consumer's.</summary>
    public TimeSpan ListingTime => TimeSpan.FromTicks(Interlocked.Read(ref _listingTicks));

    /// <summary>How many objects it holds.</summary>
    public int Count => _objects.Count;

    /// <summary>The keys it holds, sorted.</summary>
    public IReadOnlyList<string> Keys => _objects.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <inheritdoc/>
    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Check(key, cancellationToken);
        _objects[key] = data.ToArray();
        Indexed(key);

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Check(key, cancellationToken);
        if (!_objects.TryAdd(key, data.ToArray()))
        {
            return Task.FromResult(false);
        }

        Indexed(key);
        return Task.FromResult(true);
    }

    /// <inheritdoc/>
    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(key, cancellationToken);
        return Task.FromResult(_objects.TryGetValue(key, out byte[]? data) ? data.ToArray() : null);
    }

    /// <inheritdoc/>
    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        Check(key, cancellationToken);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (!_objects.TryGetValue(key, out byte[]? data))
        {
            return Task.FromResult<byte[]?>(null);
        }

        long start = Math.Min(offset, data.Length);
        return Task.FromResult<byte[]?>(data.AsSpan((int)start, (int)Math.Min(length, data.Length - start)).ToArray());
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        cancellationToken.ThrowIfCancellationRequested();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        List<string> keys = Under(prefix);
        Interlocked.Add(ref _listingTicks, System.Diagnostics.Stopwatch.GetElapsedTime(start).Ticks);
        Interlocked.Increment(ref _listings);
        foreach (string key in keys)
        {
            if (_objects.TryGetValue(key, out byte[]? data))
            {
                yield return new ObjectInfo(key, data.Length);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(key, cancellationToken);
        bool removed = _objects.TryRemove(key, out _);
        if (removed)
        {
            Unindexed(key);
        }

        return Task.FromResult(removed);
    }

    /// <inheritdoc/>
    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        cancellationToken.ThrowIfCancellationRequested();
        int deleted = 0;
        foreach (string key in Under(prefix))
        {
            if (_objects.TryRemove(key, out _))
            {
                Unindexed(key);
                deleted++;
            }
        }

        return Task.FromResult(deleted);
    }

    private void Indexed(string key)
    {
        lock (_indexLock)
        {
            _index.Add(key);
        }
    }

    private void Unindexed(string key)
    {
        lock (_indexLock)
        {
            // Written again since: it stays.
            if (!_objects.ContainsKey(key))
            {
                _index.Remove(key);
            }
        }
    }

    /// <summary>The keys under <paramref name="prefix"/>, in order.</summary>
    private List<string> Under(string prefix)
    {
        lock (_indexLock)
        {
            return prefix.Length == 0 ? [.. _index] : [.. _index.GetViewBetween(prefix, prefix + char.MaxValue)];
        }
    }

    private static void Check(string key, CancellationToken cancellationToken)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
