using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral;
using Neutral.Storage;
using WordCount;

namespace Neutral.Tests.Shared;

/// <summary>
/// The WordCount sample's BSP word count on any cloud, checked against a count in this one process: compiled into each
/// test project that runs it (with samples/WordCount/Words.cs).
/// </summary>
internal static class WordCountCheck
{
    /// <summary>What one run did: its shuffle, the map calls it made and each partition's summary, with the one-process count.</summary>
    public sealed record Run(Shuffle<string, long> Shuffle, int MapCalls, PartitionSummary[] Summaries, Dictionary<string, long> Expected);

    /// <summary>Writes a corpus of parts of <paramref name="sizes"/> bytes under <paramref name="prefix"/>, counts it, and deletes it.</summary>
    public static async Task<Run> RunAsync(Cloud cloud, string prefix, int[] sizes, long chunkBytes, int partitions, string? scratch)
    {
        long[] written = await cloud.MapAsync(Enumerable.Range(0, sizes.Length), p => WordCount.Remote.Words.WriteCorpus($"{prefix}part-{p}.txt", p, sizes[p]));
        Assert.Equal(sizes.Length, written.Length);
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int p = 0; p < sizes.Length; p++)
        {
            Words.CountInto(expected, Encoding.UTF8.GetString(Corpus.Part(p, sizes[p])));
        }

        List<ObjectChunk> chunks = await StorageInput.Split(cloud.Storage, prefix, chunkBytes).ToListAsync();
        Shuffle<string, long> shuffle = cloud.NewShuffle<string, long>(partitions, store: scratch);
        PartitionSummary[] summaries = await cloud.MapShuffleReduceAsync(shuffle, chunks, (c, s) => WordCount.Remote.Words.Map(c, s), p => WordCount.Remote.Words.Reduce(p, 1_000_000));
        await cloud.Storage.DeletePrefixAsync(prefix);
        return new Run(shuffle, chunks.Count, summaries, expected);
    }

    /// <summary>Every word's count equals the one-process count, each word comes out of one partition only, and every partition got words.</summary>
    public static void AssertExact(Run run)
    {
        var counted = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (WordTally tally in run.Summaries.SelectMany(s => s.Top))
        {
            Assert.True(counted.TryAdd(tally.Word, tally.Count), $"'{tally.Word}' came out of two partitions");
        }

        Assert.Equal(run.Expected.OrderBy(p => p.Key, StringComparer.Ordinal), counted.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(run.Expected.Values.Sum(), run.Summaries.Sum(s => s.Words));
        Assert.Equal(run.Expected.Count, run.Summaries.Sum(s => s.Distinct));
        Assert.All(run.Summaries, s => Assert.True(s.Distinct > 0, "a partition got no words: the hash does not spread"));
    }
}
