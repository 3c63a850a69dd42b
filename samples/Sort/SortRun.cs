using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Neutral;

namespace Sort;

/// <summary>One TeraSort, stage by stage, with each stage's time and the validation's verdict.</summary>
public sealed record SortRun(TimeSpan Generate, TimeSpan Sample, TimeSpan Sort, TimeSpan Validate, RecordSummary Input, RecordSummary Output, long Unordered, bool Valid)
{
    /// <summary>Sorts <paramref name="records"/> generated records under <paramref name="prefix"/> (input/, output/), and validates the output.</summary>
    public static async Task<SortRun> RunAsync(Cloud cloud, string prefix, long records, int parts, int partitions, string? scratch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(records, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        Shuffle<byte[], byte[]>? shuffle = null;
        var watch = Stopwatch.StartNew();
        RecordSummary[] inputs = await cloud.MapAsync(Enumerable.Range(0, parts), p =>
        {
            long first = records * p / parts;
            return Remote.TeraSort.Generate($"{prefix}input/part-{p:D5}", p, first, (int)((records * (p + 1) / parts) - first));
        });
        TimeSpan generate = watch.Elapsed;

        watch.Restart();
        byte[][][] samples = await cloud.MapAsync(Enumerable.Range(0, parts), p => Remote.TeraSort.SampleKeys($"{prefix}input/part-{p:D5}", Math.Max(100, 20 * partitions)));
        byte[][] boundaries = TeraSort.Boundaries(samples.SelectMany(s => s), partitions);
        shuffle = cloud.NewShuffle<byte[], byte[]>(partitions, boundaries, scratch);
        TimeSpan sample = watch.Elapsed;

        watch.Restart();
        RecordSummary[] sorted = await cloud.MapShuffleReduceAsync(
            shuffle,
            Enumerable.Range(0, parts),
            (p, s) => Remote.TeraSort.Partition($"{prefix}input/part-{p:D5}", s),
            range => Remote.TeraSort.SortRange(range, $"{prefix}output/part-{range.Partition:D5}"));
        TimeSpan sort = watch.Elapsed;

        watch.Restart();
        RecordSummary[] outputs = await cloud.MapAsync(Enumerable.Range(0, partitions), r => Remote.TeraSort.Validate($"{prefix}output/part-{r:D5}"));
        TimeSpan validate = watch.Elapsed;

        var input = new RecordSummary(inputs.Sum(i => i.Records), inputs.Aggregate(0UL, (a, i) => unchecked(a + i.Checksum)), "", "", 0);
        var output = new RecordSummary(outputs.Sum(o => o.Records), outputs.Aggregate(0UL, (a, o) => unchecked(a + o.Checksum)), "", "", 0);
        // Across parts: each non-empty part's first key at or above the previous non-empty part's last.
        RecordSummary[] filled = outputs.Where(o => o.Records > 0).ToArray();
        long unordered = outputs.Sum(o => o.Unordered) + filled.Zip(filled.Skip(1)).Count(pair => string.CompareOrdinal(pair.First.Last, pair.Second.First) > 0);
        bool valid = unordered == 0 && input.Records == output.Records && input.Checksum == output.Checksum
            && outputs.Select(o => (o.Records, o.Checksum)).SequenceEqual(sorted.Select(s => (s.Records, s.Checksum)));
        return new SortRun(generate, sample, sort, validate, input, output, unordered, valid);
    }
}
