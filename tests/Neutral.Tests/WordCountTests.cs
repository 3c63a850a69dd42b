using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Tests.Shared;
using WordCount;

namespace Neutral.Tests;

/// <summary>The WordCount sample's BSP word count on the local provider, against a count in this one process.</summary>
public sealed class WordCountTests
{
    private static Task<WordCountCheck.Run> RunAsync(Cloud cloud, string? scratch) =>
        WordCountCheck.RunAsync(cloud, "wc-test/input/", [300_000, 250_000, 100_000], chunkBytes: 64 * 1024, partitions: 4, scratch);

    [Fact]
    public async Task The_word_count_is_exact_on_worker_processes_and_leaves_no_intermediate_data()
    {
        await using var local = new LocalCloud();
        WordCountCheck.Run run = await RunAsync(local.Cloud, scratch: null);
        Assert.True(run.MapCalls > 8, "the corpus should need several map calls");
        WordCountCheck.AssertExact(run);
        Assert.Empty(await local.Cloud.Storage.ListAsync("").ToListAsync());
        Assert.False(System.IO.Directory.Exists(System.IO.Path.Combine(local.Root, "_neutral", "shuffles")) &&
            System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(local.Root, "_neutral", "shuffles"), "*", System.IO.SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task A_named_store_holds_the_intermediate_data_and_a_misnamed_kind_fails_at_connect()
    {
        await using var local = new LocalCloud(configure: o => o.Stores["scratch"] = "local");
        WordCountCheck.AssertExact(await RunAsync(local.Cloud, scratch: "scratch"));

        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o => o.Stores["scratch"] = "nosuchkind"));
        Assert.Equal("Neutral:Stores:scratch:Kind", error.Key);
    }

    [Fact]
    public async Task A_store_named_in_upper_case_as_environment_variables_spell_it_is_found_by_any_case()
    {
        // NEUTRAL__STORES__SCRATCH=local arrives as the key "SCRATCH"; configuration keys ignore case, so do store names.
        await using var local = new LocalCloud(configure: o => o.Stores["SCRATCH"] = "local");
        WordCountCheck.AssertExact(await RunAsync(local.Cloud, scratch: "scratch"));
        Assert.NotNull(local.Cloud.StorageOf("Scratch"));
    }

    [Fact]
    public void Counting_UTF8_a_slice_at_a_time_counts_as_decoding_the_whole_text_does()
    {
        // Slices of 256 KiB: text long enough for several, with words of several bytes a character, a word longer than
        // a slice, tabs and CRLF line ends, and runs of separators.
        var text = new StringBuilder();
        var random = new Random(5);
        string[] words = ["Ünïcødé", "日本語", "emoji😀", "plain", "MiXeD", "a"];
        while (text.Length < 700_000)
        {
            text.Append(words[random.Next(words.Length)]).Append(random.Next(8) switch { 0 => "\r\n", 1 => "\t", 2 => "  ", _ => " " });
        }

        text.Append(new string('x', 300_000)).Append(" tail\n").Append(new string('y', 300_000));
        byte[] utf8 = Encoding.UTF8.GetBytes(text.ToString());

        var whole = new Dictionary<string, long>(StringComparer.Ordinal);
        Words.CountInto(whole, text.ToString());
        var sliced = new Dictionary<string, long>(StringComparer.Ordinal);
        Words.CountUtf8Into(sliced, utf8);
        Assert.Equal(whole.OrderBy(p => p.Key, StringComparer.Ordinal), sliced.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(1, sliced[new string('x', 300_000)]);
        Assert.Equal(1, sliced[new string('y', 300_000)]);
    }
}
