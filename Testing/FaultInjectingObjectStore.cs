using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Testing;

/// <summary>
/// Wraps a store with what cloud object stores do to their clients: latency, transient errors (an
/// <see cref="IOException"/> as an SDK's timeout or 5xx), listings that lag (new objects appear in listings late), and
/// outages (<see cref="Down"/>). Seeded: a run is reproducible.
/// </summary>
public sealed class FaultInjectingObjectStore : IObjectStore, IBulkDeletingObjectStore, IObjectStoreWrapper
{
    private readonly IObjectStore _inner;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _written = new(StringComparer.Ordinal);
    private int _errors;
    private int _lostWrites;

    /// <summary>The store this one serves.</summary>
    public IObjectStore Inner => _inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public FaultInjectingObjectStore(IObjectStore inner, TimeProvider time, int seed = 1)
    {
        _inner = inner;
        _time = time;
        _random = new Random(seed);
    }

    /// <summary>The share of operations that fail with a transient error (0 to 1).</summary>
    public double ErrorRate { get; set; }

    /// <summary>How long every operation takes (on the given clock).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>How long a new object stays out of listings.</summary>
    public TimeSpan ListingLag { get; set; }

    /// <summary>While true, every operation fails (an outage).</summary>
    public bool Down { get; set; }

    /// <summary>Runs before every write (put or create) with its key, after the latency: a test can hold writes on a gate.</summary>
    public Func<string, Task>? BeforeWrite { get; set; }

    /// <summary>
    /// Decides per key that a write (put or create) is lost: it answers as if it succeeded and stores nothing (a worker
    /// killed between two writes, as the client sees it).
    /// </summary>
    public Func<string, bool>? LoseWrite { get; set; }

    /// <summary>Writes lost by <see cref="LoseWrite"/>.</summary>
    public int LostWrites => Volatile.Read(ref _lostWrites);

    /// <summary>Decides per key that a read fails with the returned exception (a client-side bug in a store's reader, say).</summary>
    public Func<string, Exception?>? FailRead { get; set; }

    /// <summary>How many errors were injected.</summary>
    public int InjectedErrors => Volatile.Read(ref _errors);

    private async Task EnterAsync(string operation, string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, _time, cancellationToken).ConfigureAwait(false);
        }

        bool fail;
        lock (_randomLock)
        {
            fail = Down || (ErrorRate > 0 && _random.NextDouble() < ErrorRate);
        }

        if (fail)
        {
            Interlocked.Increment(ref _errors);
            throw new IOException($"Injected transient store error on {operation} '{key}'.");
        }
    }

    private void Written(string key) => _written[key] = _time.GetUtcNow();

    /// <inheritdoc/>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await EnterAsync("put", key, cancellationToken).ConfigureAwait(false);
        if (BeforeWrite is { } before)
        {
            await before(key).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (LoseWrite?.Invoke(key) == true)
        {
            Interlocked.Increment(ref _lostWrites);
            return;
        }

        await _inner.PutAsync(key, data, cancellationToken).ConfigureAwait(false);
        Written(key);
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await EnterAsync("create", key, cancellationToken).ConfigureAwait(false);
        if (BeforeWrite is { } before)
        {
            await before(key).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (LoseWrite?.Invoke(key) == true)
        {
            Interlocked.Increment(ref _lostWrites);
            return true;
        }

        bool created = await _inner.TryCreateAsync(key, data, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            Written(key);
        }

        return created;
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        await EnterAsync("get", key, cancellationToken).ConfigureAwait(false);
        if (FailRead?.Invoke(key) is { } failure)
        {
            // An exception thrown before keeps its stack (where a real client library threw it).
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return await _inner.GetAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        await EnterAsync("get", key, cancellationToken).ConfigureAwait(false);
        return await _inner.GetRangeAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnterAsync("list", prefix, cancellationToken).ConfigureAwait(false);
        DateTimeOffset visible = _time.GetUtcNow() - ListingLag;
        await foreach (ObjectInfo info in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (ListingLag > TimeSpan.Zero && _written.TryGetValue(info.Key, out DateTimeOffset at) && at > visible)
            {
                continue;
            }

            yield return info;
        }
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await EnterAsync("delete", key, cancellationToken).ConfigureAwait(false);
        return await _inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await EnterAsync("delete", prefix, cancellationToken).ConfigureAwait(false);
        return await _inner.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
    }
}
