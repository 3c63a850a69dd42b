using System;
using System.Collections.Generic;
using System.Globalization;
using Neutral.Wire;

namespace Neutral.Shuffles;

/// <summary>A shuffle's limits and layout.</summary>
public static class ShuffleLimits
{
    /// <summary>The most partitions a shuffle may have.</summary>
    public const int MaxPartitions = 100_000;

    /// <summary>The bytes after a map output's index: the partition count and <see cref="Marker"/>.</summary>
    internal const int FooterBytes = 8;

    /// <summary>"NSHF", little-endian: the last four bytes of every map output.</summary>
    internal const int Marker = 0x4648534E;

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with <paramref name="shuffle"/>: no id, a partition count out of range, boundaries not one fewer than partitions or out of order (by <paramref name="comparer"/>).</summary>
    public static void Validate<TKey, TValue>(Shuffle<TKey, TValue> shuffle, IComparer<TKey>? comparer = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(shuffle);
        if (string.IsNullOrWhiteSpace(shuffle.Id))
        {
            throw new ArgumentException("The shuffle has no id: create it with Cloud.NewShuffle.", nameof(shuffle));
        }

        if (shuffle.Partitions is < 1 or > MaxPartitions)
        {
            throw new ArgumentOutOfRangeException(nameof(shuffle), shuffle.Partitions, $"Shuffle '{shuffle.Id}' has {shuffle.Partitions} partitions: a shuffle has from 1 to {MaxPartitions:N0}.");
        }

        if (shuffle.Boundaries is { } boundaries)
        {
            if (boundaries.Length != shuffle.Partitions - 1)
            {
                throw new ArgumentException($"Shuffle '{shuffle.Id}' has {shuffle.Partitions} partitions and {boundaries.Length} boundaries: range partitioning takes one boundary fewer than partitions.", nameof(shuffle));
            }

            comparer ??= ShuffleKeys.Comparer<TKey>();
            for (int i = 1; i < boundaries.Length; i++)
            {
                if (comparer.Compare(boundaries[i - 1], boundaries[i]) > 0)
                {
                    throw new ArgumentException($"Shuffle '{shuffle.Id}': boundary {i} sorts before boundary {i - 1}; boundaries must be in ascending order.", nameof(shuffle));
                }
            }
        }
    }

    /// <summary>The folder of a shuffle's data in the internal key space.</summary>
    public static string Folder(string shuffleId) => StorageLayout.ShufflesFolder + shuffleId + "/";

    /// <summary>A map attempt's output: a folder per map call (which spreads a Redis Cluster's load), a name per execution.</summary>
    internal static string OutputKey(string shuffleId, int callIndex, int attempt) =>
        Folder(shuffleId) + callIndex.ToString("D6", CultureInfo.InvariantCulture) + "/" + attempt.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The store holding a shuffle's data: the job's internal space, or the named store's.</summary>
    internal static IObjectStore StoreOf(RemoteContext context, string? store) =>
        store is null ? context.InternalStorage : context.InternalStorageOf(store);
}
