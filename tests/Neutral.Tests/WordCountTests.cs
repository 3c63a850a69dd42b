using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Storage;
using WordCount;

namespace Neutral.Tests;

/// <summary>The WordCount sample's BSP word count on the local provider, against a count in this one process.</summary>
public sealed class WordCountTests
{
    internal static async Task<(PartitionSummary[] Summaries, Dictionary<string, long> Expected)> RunAsync(Cloud cloud, string? scratch, int partitions = 4)
    {
        const string Prefix = "wc-test/input/";
        int[] sizes = [300_000, 250_000, 100_000];
        long[] written = await cloud.MapAsync(Enumerable.Range(0, sizes.Length), p => WordCount.Remote.Words.WriteCorpus($"{Prefix}part-{p}.txt", p, sizes[p]));
        Assert.Equal(sizes.Length, written.Length);

        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int p = 0; p < sizes.Length; p++)
        {
            Words.CountInto(expected, Encoding.UTF8.GetString(Corpus.Part(p, sizes[p])));
        }

        List<ObjectChunk> chunks = await StorageInput.Split(cloud.Storage, Prefix, 64 * 1024).ToListAsync();
        Assert.True(chunks.Count > 8, "the corpus should need several map calls");
        Shuffle<string, long> shuffle = cloud.NewShuffle<string, long>(partitions, store: scratch);
        PartitionSummary[] summaries = await cloud.MapShuffleReduceAsync(shuffle, chunks, (c, s) => WordCount.Remote.Words.Map(c, s), p => WordCount.Remote.Words.Reduce(p, 1_000_000));
        await cloud.Storage.DeletePrefixAsync(Prefix);
        return (summaries, expected);
    }

    /// <summary>Every word's count equals the one-process count, and each word comes out of one partition only.</summary>
    internal static void AssertExact(PartitionSummary[] summaries, Dictionary<string, long> expected)
    {
        var counted = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (WordTally tally in summaries.SelectMany(s => s.Top))
        {
            Assert.True(counted.TryAdd(tally.Word, tally.Count), $"'{tally.Word}' came out of two partitions");
        }

        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), counted.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Values.Sum(), summaries.Sum(s => s.Words));
        Assert.Equal(expected.Count, summaries.Sum(s => s.Distinct));
        Assert.All(summaries, s => Assert.True(s.Distinct > 0, "a partition got no words: the hash does not spread"));
    }

    [Fact]
    public async Task The_word_count_is_exact_on_worker_processes_and_leaves_no_intermediate_data()
    {
        await using var local = new LocalCloud();
        var (summaries, expected) = await RunAsync(local.Cloud, scratch: null);
        AssertExact(summaries, expected);
        Assert.Empty(await local.Cloud.Storage.ListAsync("").ToListAsync());
        Assert.False(System.IO.Directory.Exists(System.IO.Path.Combine(local.Root, "_neutral", "shuffles")) &&
            System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(local.Root, "_neutral", "shuffles"), "*", System.IO.SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task A_named_store_holds_the_intermediate_data_and_a_misnamed_kind_fails_at_connect()
    {
        await using var local = new LocalCloud(configure: o => o.Stores["scratch"] = "local");
        var (summaries, expected) = await RunAsync(local.Cloud, scratch: "scratch");
        AssertExact(summaries, expected);

        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o => o.Stores["scratch"] = "nosuchkind"));
        Assert.Equal("Neutral:Stores:scratch:Kind", error.Key);
    }
}
