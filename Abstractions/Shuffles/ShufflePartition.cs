using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Shuffles;

namespace Neutral;

/// <summary>
/// One partition of a <see cref="Shuffle{TKey, TValue}"/>: its part of every map output. Pass it to a reduce call
/// (<see cref="Shuffle{TKey, TValue}.PartitionsOf"/> makes them) and read it there with <see cref="ReadAsync"/> or
/// <see cref="CombineAsync"/>.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
/// <param name="ShuffleId">The shuffle's id.</param>
/// <param name="Partition">The partition's number, from 0.</param>
/// <param name="Segments">Its byte range in each map output that has records for it, in map order.</param>
/// <param name="Store">The store the shuffle keeps its data in (<see langword="null"/>: the job's).</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1819", Justification = "A plain record the generated codec writes.")]
public sealed record ShufflePartition<TKey, TValue>(string ShuffleId, int Partition, ShuffleSegment[] Segments, string? Store = null)
    where TKey : notnull
{
    /// <summary>Ranged reads in flight at once.</summary>
    private const int Parallel = 8;

    /// <summary>
    /// The partition's pairs, map output by map output, fetched with parallel ranged reads (at most eight in flight)
    /// and decoded as they arrive.
    /// </summary>
    /// <param name="context">The reduce call's context.</param>
    /// <exception cref="InvalidOperationException">A map output is missing (its data was deleted), or no codec for a type.</exception>
    public async IAsyncEnumerable<KeyValuePair<TKey, TValue>> ReadAsync(RemoteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        CodecRead<TKey> readKey = ShuffleKeys.Reader<TKey>("key");
        CodecRead<TValue> readValue = ShuffleKeys.Reader<TValue>("value");
        IObjectStore store = ShuffleLimits.StoreOf(context, Store);
        var pending = new Queue<Task<byte[]>>();
        int next = 0;
        while (next < Segments.Length || pending.Count > 0)
        {
            while (next < Segments.Length && pending.Count < Parallel)
            {
                pending.Enqueue(FetchAsync(store, Segments[next++], context));
            }

            byte[] bytes = await pending.Dequeue().ConfigureAwait(false);
            foreach (KeyValuePair<TKey, TValue> pair in Decode(bytes, readKey, readValue))
            {
                yield return pair;
            }
        }
    }

    /// <summary>The partition's pairs with the values of each key merged by <paramref name="combiner"/>.</summary>
    /// <param name="context">The reduce call's context.</param>
    /// <param name="combiner">Merges two values of one key (word count's sum).</param>
    public async Task<Dictionary<TKey, TValue>> CombineAsync(RemoteContext context, Func<TValue, TValue, TValue> combiner)
    {
        ArgumentNullException.ThrowIfNull(combiner);
        var result = new Dictionary<TKey, TValue>(ShuffleKeys.Equality<TKey>());
        await foreach (KeyValuePair<TKey, TValue> pair in ReadAsync(context).ConfigureAwait(false))
        {
            result[pair.Key] = result.TryGetValue(pair.Key, out TValue? earlier) ? combiner(earlier, pair.Value) : pair.Value;
        }

        return result;
    }

    private static List<KeyValuePair<TKey, TValue>> Decode(byte[] bytes, CodecRead<TKey> readKey, CodecRead<TValue> readValue)
    {
        var pairs = new List<KeyValuePair<TKey, TValue>>();
        var reader = new CodecReader(bytes);
        while (reader.Remaining > 0)
        {
            TKey key = readKey(ref reader);
            pairs.Add(new KeyValuePair<TKey, TValue>(key, readValue(ref reader)));
        }

        return pairs;
    }

    private async Task<byte[]> FetchAsync(IObjectStore store, ShuffleSegment segment, RemoteContext context)
    {
        if (segment.Length > int.MaxValue)
        {
            throw new InvalidOperationException($"Partition {Partition} of shuffle '{ShuffleId}' has {segment.Length:N0} bytes in '{segment.Key}': one part holds at most 2 GiB. Use more partitions.");
        }

        byte[]? bytes = await store.GetRangeAsync(segment.Key, segment.Offset, (int)segment.Length, context.CancellationToken).ConfigureAwait(false);
        if (bytes is null || bytes.Length != segment.Length)
        {
            throw new InvalidOperationException(
                $"Partition {Partition} of shuffle '{ShuffleId}' is missing its part of map output '{segment.Key}' ({(bytes is null ? "no such object" : $"{bytes.Length} of {segment.Length} bytes")}): " +
                "the shuffle's data was deleted (a stage run after Cloud.DeleteShuffleAsync, or a client that ended), or the map outputs are from another shuffle.");
        }

        return bytes;
    }
}
