using System;
using System.Collections.Generic;
using Neutral.Shuffles;

namespace Neutral;

/// <summary>
/// A typed shuffle (the BSP exchange of the PyWren paper, section 3.3): map calls write key/value pairs into
/// <see cref="Partitions"/> partitions, and each call of a later stage reads one partition from every map call.
/// Create one with <c>Cloud.NewShuffle</c> and pass it to the map calls as an argument; inside a map call,
/// <see cref="OpenWriter"/> writes. <c>Cloud.MapShuffleReduceAsync</c> runs the stages and deletes the intermediate data.
/// </summary>
/// <remarks>
/// A map attempt writes one object holding all its partitions and an index (M objects in all, not the paper's M×R),
/// under a name of its own; the map's result (<see cref="ShuffleMapOutput"/>) names it, and only the result of the
/// attempt whose status won reaches the reducers, so a retried, duplicated or speculative attempt is never read twice.
/// The source generator registers the codecs of <typeparamref name="TKey"/> and <typeparamref name="TValue"/> for every
/// <c>[Remote]</c> method that takes a <see cref="Shuffle{TKey, TValue}"/> or <see cref="ShufflePartition{TKey, TValue}"/>,
/// and reports a type it cannot encode at compile time (NEU1004).
/// </remarks>
/// <typeparam name="TKey">The key: any type the generated codec writes.</typeparam>
/// <typeparam name="TValue">The value: any type the generated codec writes.</typeparam>
/// <param name="Id">Where the intermediate data lives (<c>_neutral/shuffles/{Id}/</c>), unique per shuffle.</param>
/// <param name="Partitions">The number of partitions R, from 1 to <see cref="ShuffleLimits.MaxPartitions"/>.</param>
/// <param name="Boundaries">
/// For range partitioning, R - 1 ascending keys: partition p holds the keys k with Boundaries[p - 1] ≤ k &lt;
/// Boundaries[p]. <see langword="null"/>: keys are partitioned by a hash of their encoded bytes, the same in every process.
/// </param>
/// <param name="Store">
/// The name of the store for the intermediate data (<c>Neutral:Stores:{name}</c>, for example a Redis store);
/// <see langword="null"/>: the job's own store.
/// </param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1819", Justification = "A plain record the generated codec writes: the boundaries travel as an array.")]
public sealed record Shuffle<TKey, TValue>(string Id, int Partitions, TKey[]? Boundaries = null, string? Store = null)
    where TKey : notnull
{
    /// <summary>
    /// Opens this map attempt's writer. Pairs are buffered in memory, per partition, until
    /// <see cref="ShuffleWriter{TKey, TValue}.CompleteAsync"/> writes them as one object.
    /// </summary>
    /// <param name="context">The map call's context.</param>
    /// <param name="combiner">
    /// Merges two values of one key as they are added (word count's sum): each partition then holds each key once.
    /// </param>
    /// <param name="comparer">Orders keys against <see cref="Boundaries"/> (default: <see cref="Comparer{T}.Default"/>; byte arrays by their bytes).</param>
    /// <exception cref="ArgumentException">The shuffle is not valid (partition count, boundaries out of order).</exception>
    /// <exception cref="InvalidOperationException">No generated codec for the key or value type.</exception>
    public ShuffleWriter<TKey, TValue> OpenWriter(RemoteContext context, Func<TValue, TValue, TValue>? combiner = null, IComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ShuffleWriter<TKey, TValue>(this, context, combiner, comparer ?? ShuffleKeys.Comparer<TKey>());
    }

    /// <summary>
    /// The reducers' inputs: for each partition, its part of every map output, in map order. Empty parts are left out.
    /// </summary>
    /// <param name="maps">The results of the map calls (one per map call, as the map job returned them).</param>
    /// <exception cref="ArgumentException">An output does not belong to a shuffle of this partition count.</exception>
    public ShufflePartition<TKey, TValue>[] PartitionsOf(IReadOnlyList<ShuffleMapOutput> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ShuffleLimits.Validate(this);
        var segments = new List<ShuffleSegment>[Partitions];
        for (int p = 0; p < Partitions; p++)
        {
            segments[p] = [];
        }

        for (int m = 0; m < maps.Count; m++)
        {
            ShuffleMapOutput map = maps[m] ?? throw new ArgumentException($"Map output {m} is null.", nameof(maps));
            if (map.Offsets is null || map.Offsets.Length != Partitions + 1)
            {
                throw new ArgumentException($"Map output {m} ('{map.Key}') has {map.Offsets?.Length ?? 0} offsets; a shuffle of {Partitions} partitions has {Partitions + 1}. Was it written by another shuffle?", nameof(maps));
            }

            for (int p = 0; p < Partitions; p++)
            {
                long length = map.Offsets[p + 1] - map.Offsets[p];
                if (length > 0)
                {
                    segments[p].Add(new ShuffleSegment(map.Key, map.Offsets[p], length));
                }
            }
        }

        var partitions = new ShufflePartition<TKey, TValue>[Partitions];
        for (int p = 0; p < Partitions; p++)
        {
            partitions[p] = new ShufflePartition<TKey, TValue>(Id, p, segments[p].ToArray(), Store);
        }

        return partitions;
    }
}

/// <summary>What one map call wrote into a shuffle: its object, and where each partition starts in it.</summary>
/// <param name="Key">The object, in the job store's internal space (or the shuffle's store).</param>
/// <param name="Offsets">R + 1 offsets: partition p is the bytes from Offsets[p] to Offsets[p + 1].</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1819", Justification = "A plain record the generated codec writes.")]
public sealed record ShuffleMapOutput(string Key, long[] Offsets);

/// <summary>A byte range of one map output: one partition's records from one map call.</summary>
/// <param name="Key">The map output's object.</param>
/// <param name="Offset">The first byte.</param>
/// <param name="Length">The number of bytes.</param>
public sealed record ShuffleSegment(string Key, long Offset, long Length);
