using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Shuffles;
using Neutral.Storage;

namespace Neutral;

/// <summary>Shuffles: map → shuffle → reduce, with the intermediate data in a store and never in the client.</summary>
public sealed partial class Cloud
{
    /// <summary>
    /// A new shuffle into <paramref name="partitions"/> partitions, by a hash of the keys or, with
    /// <paramref name="boundaries"/>, by key ranges. Pass it to the map calls; see <see cref="Shuffle{TKey, TValue}"/>.
    /// </summary>
    /// <param name="partitions">R, from 1 to <see cref="ShuffleLimits.MaxPartitions"/>.</param>
    /// <param name="boundaries">R - 1 ascending keys for range partitioning (a sort's splitters), or <see langword="null"/> for hashing.</param>
    /// <param name="store">
    /// The store named in <c>Neutral:Stores</c> to keep the intermediate data in (the paper puts it on Redis), or
    /// <see langword="null"/> for the job's own store.
    /// </param>
    /// <exception cref="ArgumentException">A partition count out of range, boundaries not one fewer than partitions or out of order, or an unknown store.</exception>
    public Shuffle<TKey, TValue> NewShuffle<TKey, TValue>(int partitions, TKey[]? boundaries = null, string? store = null)
        where TKey : notnull
    {
        if (store is not null)
        {
            _ = _context.Store(store);
        }

        // Under the client's own folder: Cloud.DisposeAsync deletes what is left of its shuffles, and a later Connect
        // sweeps those of a client that died (Job:SweepAfterHours).
        var shuffle = new Shuffle<TKey, TValue>(_context.ClientId + "/" + JobCleanup.NewId(_context.Time.GetUtcNow()), partitions, boundaries, store);
        ShuffleLimits.Validate(shuffle);
        return shuffle;
    }

    /// <summary>
    /// Runs a whole shuffle: <paramref name="map"/> over <paramref name="inputs"/> (each call writes its pairs with
    /// <see cref="Shuffle{TKey, TValue}.OpenWriter"/> and returns <see cref="ShuffleWriter{TKey, TValue}.CompleteAsync"/>'s
    /// output), then <paramref name="reduce"/> over every partition; the intermediate data is deleted at the end,
    /// whatever happens (unless <c>Job:KeepData</c>).
    /// </summary>
    /// <returns>The reduce calls' results, one per partition, in partition order.</returns>
    /// <exception cref="RemoteJobException">Some map or reduce calls failed.</exception>
    public async Task<TResult[]> MapShuffleReduceAsync<TInput, TKey, TValue, TResult>(
        Shuffle<TKey, TValue> shuffle,
        IEnumerable<TInput> inputs,
        Func<TInput, Shuffle<TKey, TValue>, RemoteCall<ShuffleMapOutput>> map,
        Func<ShufflePartition<TKey, TValue>, RemoteCall<TResult>> reduce,
        CancellationToken cancellationToken = default)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(shuffle);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(reduce);
        ShuffleLimits.Validate(shuffle);
        try
        {
            ShuffleMapOutput[] outputs = await MapAsync(inputs.Select(input => map(input, shuffle)), cancellationToken).ConfigureAwait(false);
            return await MapAsync(shuffle.PartitionsOf(outputs).Select(reduce), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!_context.Options.Job.KeepData)
            {
                await DeleteShuffleAsync(shuffle, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Deletes a shuffle's intermediate data (every attempt's map outputs); returns how many objects went.</summary>
    public Task<int> DeleteShuffleAsync<TKey, TValue>(Shuffle<TKey, TValue> shuffle, CancellationToken cancellationToken = default)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(shuffle);
        ShuffleLimits.Validate(shuffle);
        return InternalStore(shuffle.Store).DeletePrefixAsync(ShuffleLimits.Folder(shuffle.Id), cancellationToken);
    }

    private PrefixedObjectStore InternalStore(string? name) => name is null ? _context.Jobs : _context.Store(name).Internal;
}
