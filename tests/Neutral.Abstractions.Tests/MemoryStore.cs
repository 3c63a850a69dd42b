using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Tests;

/// <summary>A dictionary-backed store for codec and dispatch tests (the real stores have their own contract suite).</summary>
internal sealed class MemoryStore : IObjectStore
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

    public int Gets;

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        _objects[key] = data.ToArray();
        return Task.CompletedTask;
    }

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Task.FromResult(_objects.TryAdd(key, data.ToArray()));

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Gets);
        return Task.FromResult(_objects.TryGetValue(key, out byte[]? data) ? data.ToArray() : null);
    }

    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        Task.FromResult(_objects.TryGetValue(key, out byte[]? data)
            ? data.AsSpan((int)Math.Min(offset, data.Length), (int)Math.Min(length, Math.Max(0, data.Length - offset))).ToArray()
            : null);

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var pair in _objects.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            yield return new ObjectInfo(pair.Key, pair.Value.Length);
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult(_objects.TryRemove(key, out _));
}
