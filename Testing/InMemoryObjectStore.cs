using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Testing;

/// <summary>An object store in memory: atomic create-only, ordered listings. For the simulated cloud.</summary>
public sealed class InMemoryObjectStore : IObjectStore, IBulkDeletingObjectStore
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

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
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Check(key, cancellationToken);
        return Task.FromResult(_objects.TryAdd(key, data.ToArray()));
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
        var keys = new List<string>();
        foreach (string key in _objects.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                keys.Add(key);
            }
        }

        keys.Sort(StringComparer.Ordinal);
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
        return Task.FromResult(_objects.TryRemove(key, out _));
    }

    /// <inheritdoc/>
    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        cancellationToken.ThrowIfCancellationRequested();
        int deleted = 0;
        foreach (string key in _objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToArray())
        {
            deleted += _objects.TryRemove(key, out _) ? 1 : 0;
        }

        return Task.FromResult(deleted);
    }

    private static void Check(string key, CancellationToken cancellationToken)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
