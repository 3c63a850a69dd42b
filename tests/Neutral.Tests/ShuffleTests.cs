using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Shuffles;
using Neutral.Wire;

namespace Neutral.Tests;

public static class ShuffleFunctions
{
    [Remote]
    public static async Task<ShuffleMapOutput> CountWords(string text, Shuffle<string, long> shuffle, RemoteContext context)
    {
        using ShuffleWriter<string, long> writer = shuffle.OpenWriter(context, combiner: static (a, b) => a + b);
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            writer.Add(word, 1);
        }

        return await writer.CompleteAsync();
    }

    [Remote]
    public static async Task<Dictionary<string, long>> SumWords(ShufflePartition<string, long> partition, RemoteContext context) =>
        await partition.CombineAsync(context, static (a, b) => a + b);

    /// <summary>Range-partitions numbers (no combiner: every pair travels).</summary>
    [Remote]
    public static async Task<ShuffleMapOutput> Spread(int[] numbers, Shuffle<int, int> shuffle, RemoteContext context)
    {
        using ShuffleWriter<int, int> writer = shuffle.OpenWriter(context);
        foreach (int n in numbers)
        {
            writer.Add(n, -n);
        }

        return await writer.CompleteAsync();
    }

    [Remote]
    public static async Task<int[]> Collect(ShufflePartition<int, int> partition, RemoteContext context)
    {
        var keys = new List<int>();
        await foreach (KeyValuePair<int, int> pair in partition.ReadAsync(context))
        {
            Assert.Equal(-pair.Key, pair.Value);
            keys.Add(pair.Key);
        }

        keys.Sort();
        return [.. keys];
    }

    /// <summary>Opens a writer for a shuffle whose types no [Remote] signature names: no codec was generated for them.</summary>
    [Remote]
    public static async Task<ShuffleMapOutput> Unregistered(string id, RemoteContext context)
    {
        var shuffle = new Shuffle<Version, Uri>(id, 2);
        using ShuffleWriter<Version, Uri> writer = shuffle.OpenWriter(context);
        return await writer.CompleteAsync();
    }
}

/// <summary>The shuffle on the simulated cloud: exactly once whatever the platform does, its layout, its errors.</summary>
public sealed class ShuffleTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static readonly string[] Texts = Enumerable.Range(0, 40)
        .Select(i => string.Join(' ', Enumerable.Range(0, 50).Select(j => "w" + ((i * 7 + j * 13) % 97).ToString(System.Globalization.CultureInfo.InvariantCulture))))
        .ToArray();

    private static Dictionary<string, long> CountedInOneProcess() =>
        Texts.SelectMany(t => t.Split(' ')).GroupBy(w => w).ToDictionary(g => g.Key, g => (long)g.Count());

    private static Dictionary<string, long> Merge(Dictionary<string, long>[] partitions)
    {
        var all = new Dictionary<string, long>();
        foreach (var (word, count) in partitions.SelectMany(p => p))
        {
            // A word in two partitions would be counted twice: every key must have one home.
            Assert.True(all.TryAdd(word, count), $"'{word}' came out of two partitions");
        }

        return all;
    }

    private static List<string> ShuffleObjects(SimulatedRig rig) =>
        rig.Memory.Keys.Where(k => k.StartsWith(Cloud.InternalPrefix + StorageLayout.ShufflesFolder, StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task Word_count_is_exact_with_one_object_per_map_call_and_nothing_left_behind()
    {
        await using var rig = new SimulatedRig();
        Shuffle<string, long> shuffle = rig.Cloud.NewShuffle<string, long>(partitions: 7);
        Dictionary<string, long>[] counts = await rig.DriveAsync(rig.Cloud.MapShuffleReduceAsync(
            shuffle, Texts, (text, s) => Remote.ShuffleFunctions.CountWords(text, s), p => Remote.ShuffleFunctions.SumWords(p)), Hour);
        Assert.Equal(7, counts.Length);
        Assert.Equal(CountedInOneProcess().OrderBy(p => p.Key), Merge(counts).OrderBy(p => p.Key));
        Assert.Empty(ShuffleObjects(rig));
    }

    [Fact]
    public async Task Duplicated_lost_and_backup_attempts_never_count_a_word_twice()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.KeepData = true;
            o.Job.Retries = 10;
            o.Job.StartTimeoutSeconds = 30;
        });
        rig.Platform.DuplicateRate = 0.5;
        rig.Platform.Lose = e => e.CallIndex % 9 == 4 && e.Attempt == 1;
        // Map call 0's first attempt straggles: speculation starts a backup, and both end up writing an output.
        rig.Platform.BeforeRun = (e, ct) => e.CallIndex == 0 && e.Attempt == 1 && e.FunctionId.Contains("CountWords", StringComparison.Ordinal)
            ? Task.Delay(TimeSpan.FromMinutes(2), rig.Time, ct)
            : Task.CompletedTask;

        Shuffle<string, long> shuffle = rig.Cloud.NewShuffle<string, long>(partitions: 5);
        var maps = rig.Cloud.Submit(Texts.Select(t => Remote.ShuffleFunctions.CountWords(t, shuffle)));
        ShuffleMapOutput[] outputs = await rig.DriveAsync(maps.GetResultsAsync(), Hour);
        Assert.True(maps[0].Stats.AttemptsStarted >= 2, "no backup attempt of the straggler: the test did not test speculation");
        await rig.DriveAsync(Task.Delay(TimeSpan.FromMinutes(3), rig.Time), Hour);

        Dictionary<string, long>[] counts = await rig.DriveAsync(rig.Cloud.MapAsync(shuffle.PartitionsOf(outputs), p => Remote.ShuffleFunctions.SumWords(p)), Hour);
        Assert.Equal(CountedInOneProcess().OrderBy(p => p.Key), Merge(counts).OrderBy(p => p.Key));

        // More map outputs were written than there are map calls (duplicates, retries, the backup), and none was read twice.
        int written = ShuffleObjects(rig).Count;
        Assert.True(rig.Platform.Duplicates > 0 && written > Texts.Length, $"{written} map outputs for {Texts.Length} calls, {rig.Platform.Duplicates} duplicates");
        Assert.Equal(written, await rig.Cloud.DeleteShuffleAsync(shuffle));
        Assert.Empty(ShuffleObjects(rig));
    }

    [Fact]
    public async Task Range_partitions_hold_their_ranges_and_a_failed_stage_still_deletes_the_data()
    {
        await using var rig = new SimulatedRig();
        var random = new Random(3);
        int[][] inputs = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 300).Select(_ => random.Next(0, 1000)).ToArray()).ToArray();
        Shuffle<int, int> shuffle = rig.Cloud.NewShuffle<int, int>(partitions: 4, boundaries: [250, 500, 750]);
        int[][] parts = await rig.DriveAsync(rig.Cloud.MapShuffleReduceAsync(
            shuffle, inputs, (input, s) => Remote.ShuffleFunctions.Spread(input, s), p => Remote.ShuffleFunctions.Collect(p)), Hour);
        Assert.All(parts[0], k => Assert.InRange(k, 0, 249));
        Assert.All(parts[1], k => Assert.InRange(k, 250, 499));
        Assert.All(parts[2], k => Assert.InRange(k, 500, 749));
        Assert.All(parts[3], k => Assert.InRange(k, 750, 999));
        Assert.Equal(inputs.SelectMany(i => i).Order(), parts.SelectMany(p => p));
        Assert.Empty(ShuffleObjects(rig));

        // A reduce that fails: the intermediate data goes all the same.
        rig.Platform.BeforeRun = (e, _) => e.FunctionId.Contains("Collect", StringComparison.Ordinal) ? throw new InvalidOperationException("reducer host lost") : Task.CompletedTask;
        Shuffle<int, int> again = rig.Cloud.NewShuffle<int, int>(partitions: 2, boundaries: [500]);
        Task<int[][]> failing = rig.Cloud.MapShuffleReduceAsync(again, inputs, (input, s) => Remote.ShuffleFunctions.Spread(input, s), p => Remote.ShuffleFunctions.Collect(p));
        await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(failing, Hour));
        Assert.Empty(ShuffleObjects(rig));
    }

    [Fact]
    public async Task Disposing_the_client_deletes_the_shuffles_it_left()
    {
        var rig = new SimulatedRig();
        Shuffle<string, long> shuffle = rig.Cloud.NewShuffle<string, long>(partitions: 2);
        await rig.DriveAsync(rig.Cloud.MapAsync(Texts.Take(3), t => Remote.ShuffleFunctions.CountWords(t, shuffle)), Hour);
        Assert.Equal(3, ShuffleObjects(rig).Count);
        await rig.DisposeAsync();
        Assert.Empty(ShuffleObjects(rig));
    }

    [Fact]
    public async Task A_reducer_whose_map_output_is_gone_fails_naming_the_object()
    {
        await using var rig = new SimulatedRig();
        Shuffle<string, long> shuffle = rig.Cloud.NewShuffle<string, long>(partitions: 2);
        ShuffleMapOutput[] outputs = await rig.DriveAsync(rig.Cloud.MapAsync(Texts.Take(3), t => Remote.ShuffleFunctions.CountWords(t, shuffle)), Hour);
        await rig.Cloud.DeleteShuffleAsync(shuffle);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(rig.Cloud.MapAsync(shuffle.PartitionsOf(outputs), p => Remote.ShuffleFunctions.SumWords(p)), Hour));
        Assert.All(error.Failures, f => Assert.Contains("missing its part of map output '" + outputs[0].Key, f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_type_no_signature_names_has_no_codec_and_says_how_to_get_one()
    {
        await using var rig = new SimulatedRig(o => o.Job.Retries = 0);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(rig.Cloud.MapAsync(new[] { "x/y" }, id => Remote.ShuffleFunctions.Unregistered(id)), Hour));
        RemoteException failure = Assert.Single(error.Failures);
        Assert.Contains("No generated codec for the shuffle's key type System.Version", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Shuffle<TKey, TValue>", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, null, "from 1 to 100,000")]
    [InlineData(100_001, null, "from 1 to 100,000")]
    [InlineData(3, new[] { 5 }, "one boundary fewer than partitions")]
    [InlineData(3, new[] { 9, 5 }, "ascending order")]
    public async Task A_bad_shuffle_is_refused_naming_what_is_wrong(int partitions, int[]? boundaries, string why)
    {
        await using var rig = new SimulatedRig();
        var error = Assert.ThrowsAny<ArgumentException>(() => rig.Cloud.NewShuffle<int, int>(partitions, boundaries));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outputs_of_another_shuffle_and_unknown_stores_are_refused()
    {
        await using var rig = new SimulatedRig();
        Shuffle<string, long> shuffle = rig.Cloud.NewShuffle<string, long>(partitions: 3);
        var error = Assert.Throws<ArgumentException>(() => shuffle.PartitionsOf([new ShuffleMapOutput("k", [0, 0, 0])]));
        Assert.Contains("a shuffle of 3 partitions has 4", error.Message, StringComparison.Ordinal);
        var store = Assert.Throws<ArgumentException>(() => rig.Cloud.NewShuffle<string, long>(partitions: 3, store: "scratch"));
        Assert.Contains("No store named 'scratch'", store.Message, StringComparison.Ordinal);
        Assert.Contains("Neutral:Stores:scratch:Kind", store.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_map_output_holds_its_own_index_after_the_data()
    {
        await using var rig = new SimulatedRig(o => o.Job.KeepData = true);
        Shuffle<string, long> shuffle = rig.Cloud.NewShuffle<string, long>(partitions: 3);
        ShuffleMapOutput output = (await rig.DriveAsync(rig.Cloud.MapAsync(Texts.Take(1), t => Remote.ShuffleFunctions.CountWords(t, shuffle)), Hour)).Single();
        byte[] data = (await rig.Memory.GetAsync(Cloud.InternalPrefix + output.Key))!;
        long dataBytes = output.Offsets[^1];
        Assert.Equal(dataBytes + (8 * 4) + 8, data.Length);
        for (int p = 0; p <= 3; p++)
        {
            Assert.Equal(output.Offsets[p], BitConverter.ToInt64(data, (int)dataBytes + (8 * p)));
        }

        Assert.Equal(3, BitConverter.ToInt32(data, data.Length - 8));
        Assert.Equal("NSHF"u8.ToArray(), data[^4..]);
        Assert.StartsWith(StorageLayout.ShufflesFolder + shuffle.Id + "/000000/1-", output.Key, StringComparison.Ordinal);
    }
}
