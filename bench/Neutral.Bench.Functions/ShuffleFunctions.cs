using System.Collections.Generic;
using System.Threading.Tasks;

namespace Neutral.Bench;

/// <summary>A shuffle whose cost is the shuffle's own: each map call sends one pair to every partition, each reduce call counts.</summary>
public static class ShuffleFunctions
{
    /// <summary>Writes <paramref name="pairs"/> pairs (keys spread over every partition by hash) as one map output.</summary>
    [Remote]
    public static async Task<ShuffleMapOutput> Map(int map, int pairs, Shuffle<long, int> shuffle, RemoteContext context)
    {
        using ShuffleWriter<long, int> writer = shuffle.OpenWriter(context);
        for (int i = 0; i < pairs; i++)
        {
            writer.Add(((long)map << 32) | (uint)i, i);
        }

        return await writer.CompleteAsync();
    }

    /// <summary>Counts the pairs of one partition.</summary>
    [Remote]
    public static async Task<long> Reduce(ShufflePartition<long, int> partition, RemoteContext context)
    {
        long count = 0;
        await foreach (KeyValuePair<long, int> _ in partition.ReadAsync(context))
        {
            count++;
        }

        return count;
    }
}
