using System;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Storage;
using Sort;

namespace Neutral.Tests;

/// <summary>The Sort sample's TeraSort on the local provider, its intermediate data in the file store.</summary>
public sealed class SortTests
{
    [Fact]
    public async Task TeraSort_output_is_sorted_and_a_permutation_of_its_input()
    {
        await using var local = new LocalCloud();
        SortRun run = await SortRun.RunAsync(local.Cloud, "sort-test/", records: 20_000, parts: 4, partitions: 5, scratch: null);
        Assert.True(run.Valid, $"{run.Unordered} out of order; input {run.Input}, output {run.Output}");
        Assert.Equal(20_000, run.Output.Records);
        Assert.Equal(0, run.Unordered);

        // The parts really are ranges of the key space: each holds some records (the boundaries come from samples).
        var outputs = await local.Cloud.Storage.ListAsync("sort-test/output/").ToListAsync();
        Assert.Equal(5, outputs.Count);
        Assert.All(outputs, o => Assert.InRange(o.Size, 20_000 * 100 / 5 / 2, 20_000 * 100 / 5 * 2));
        Assert.Empty(await local.Cloud.Storage.ListAsync("_").ToListAsync());
        await local.Cloud.Storage.DeletePrefixAsync("sort-test/");
    }

    [Fact]
    public void Validation_catches_a_swapped_pair_and_a_changed_record()
    {
        byte[] data = new byte[3 * TeraSort.RecordBytes];
        for (int r = 0; r < 3; r++)
        {
            data[r * TeraSort.RecordBytes] = (byte)(10 * (r + 1));
            data[(r * TeraSort.RecordBytes) + 50] = (byte)r;
        }

        RecordSummary sorted = TeraSort.Summarize(data, output: true);
        Assert.Equal(0, sorted.Unordered);

        byte[] swapped = (byte[])data.Clone();
        data.AsSpan(0, 100).CopyTo(swapped.AsSpan(100));
        data.AsSpan(100, 100).CopyTo(swapped.AsSpan(0));
        RecordSummary unordered = TeraSort.Summarize(swapped, output: true);
        Assert.Equal(1, unordered.Unordered);
        Assert.Equal(sorted.Checksum, unordered.Checksum);

        byte[] changed = (byte[])data.Clone();
        changed[150]++;
        Assert.NotEqual(sorted.Checksum, TeraSort.Summarize(changed, output: true).Checksum);
    }

    [Fact]
    public void A_range_is_sorted_by_its_key_bytes_unsigned_across_blocks_keeping_equal_keys_in_block_order()
    {
        // Keys that differ only in the last two bytes, a byte above 0x7F (unsigned), and a key repeated in two blocks.
        byte[][] keys = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 0xFF], [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 1], [1, 2, 3, 4, 5, 6, 7, 8, 8, 0xFF], [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]];
        byte[] Records(params int[] which)
        {
            byte[] block = new byte[which.Length * TeraSort.RecordBytes];
            for (int i = 0; i < which.Length; i++)
            {
                keys[which[i]].CopyTo(block, i * TeraSort.RecordBytes);
                block[(i * TeraSort.RecordBytes) + 50] = (byte)which[i]; // which record it is
            }

            return block;
        }

        byte[] sorted = TeraSort.SortRecords([Records(0, 1), Records(2, 3, 4)]);
        int[] order = Enumerable.Range(0, 5).Select(i => (int)sorted[(i * TeraSort.RecordBytes) + 50]).ToArray();
        Assert.Equal([3, 2, 0, 1, 4], order);
        Assert.Equal(0, TeraSort.Summarize(sorted, output: true).Unordered);
        Assert.Throws<InvalidOperationException>(() => TeraSort.SortRecords([new byte[150]]));
    }
}
