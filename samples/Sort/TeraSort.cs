using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Neutral;

namespace Sort;

/// <summary>What a stage says about the records it saw: enough to prove a sort is a sorted permutation (valsort's figures).</summary>
/// <param name="Records">How many records.</param>
/// <param name="Checksum">The sum of the records' 64-bit hashes: the same for any order of the same records.</param>
/// <param name="First">The smallest key (or the first, for an output part), hex.</param>
/// <param name="Last">The largest key (or the last, for an output part), hex.</param>
/// <param name="Unordered">Adjacent pairs out of order (output parts only).</param>
public sealed record RecordSummary(long Records, ulong Checksum, string First, string Last, long Unordered);

/// <summary>
/// TeraSort's stages as remote calls, on 100-byte records with 10-byte keys (the sort benchmark's gensort -a layout:
/// printable key, row id, filler). The record generator is this sample's own, deterministic: the layout is gensort's,
/// not its random sequence.
/// </summary>
public static class TeraSort
{
    public const int RecordBytes = 100;
    public const int KeyBytes = 10;

    /// <summary>Writes part <paramref name="part"/>: <paramref name="records"/> records starting at row <paramref name="firstRow"/>, straight into the store.</summary>
    [Remote]
    public static async Task<RecordSummary> Generate(string key, int part, long firstRow, int records, RemoteContext context)
    {
        byte[] data = new byte[(long)records * RecordBytes];
        var random = new Random(unchecked((int)(0x9E3779B9u * (uint)(part + 1))));
        for (int r = 0; r < records; r++)
        {
            Span<byte> record = data.AsSpan(r * RecordBytes, RecordBytes);
            // gensort -a's layout: a key of 10 printable characters, two blanks, the row id as 32 hex digits, two
            // blanks, filler, \r\n. Printable keys let GNU sort sort the same records as lines (bench/ compares).
            for (int k = 0; k < KeyBytes; k++)
            {
                record[k] = (byte)(' ' + random.Next(95));
            }

            record.Slice(10, 2).Fill((byte)' ');
            WriteHex(record.Slice(12, 32), firstRow + r);
            record.Slice(44, 2).Fill((byte)' ');
            record.Slice(46, 52).Fill((byte)('A' + (int)((firstRow + r) % 26)));
            record[98] = (byte)'\r';
            record[99] = (byte)'\n';
        }

        await context.Storage.PutAsync(key, data, context.CancellationToken);
        return Summarize(data, output: false);
    }

    /// <summary><paramref name="count"/> keys of the part at <paramref name="key"/>, at evenly spread records (for the range boundaries).</summary>
    [Remote]
    public static async Task<byte[][]> SampleKeys(string key, int count, RemoteContext context)
    {
        byte[] data = await context.Storage.GetAsync(key, context.CancellationToken) ?? throw new InvalidOperationException($"No input part '{key}'.");
        int records = data.Length / RecordBytes;
        return Enumerable.Range(0, Math.Min(count, records))
            .Select(i => data.AsSpan((int)((long)i * records / Math.Min(count, records)) * RecordBytes, KeyBytes).ToArray())
            .ToArray();
    }

    /// <summary>
    /// The partition stage: the records of one input part, grouped by the range their keys fall in, go into the
    /// shuffle as one block per range (the block's first key is its pair's key, so the shuffle puts it in that range).
    /// Records travel in blocks, not one pair each: a pair costs two arrays on each side, and a reducer holding a
    /// million small arrays spends its time in the garbage collector.
    /// </summary>
    [Remote]
    public static async Task<ShuffleMapOutput> Partition(string key, Shuffle<byte[], byte[]> shuffle, RemoteContext context)
    {
        byte[] data = await context.Storage.GetAsync(key, context.CancellationToken) ?? throw new InvalidOperationException($"No input part '{key}'.");
        int records = data.Length / RecordBytes;
        SortKey[] boundaries = (shuffle.Boundaries ?? []).Select(b => SortKey.Of(b)).ToArray();
        int[] rangeOf = new int[records];
        int[] counts = new int[shuffle.Partitions];
        for (int r = 0; r < records; r++)
        {
            int range = RangeOf(SortKey.Of(data.AsSpan(r * RecordBytes, KeyBytes)), boundaries);
            rangeOf[r] = range;
            counts[range]++;
        }

        byte[][] blocks = counts.Select(c => c == 0 ? [] : new byte[c * RecordBytes]).ToArray();
        int[] filled = new int[shuffle.Partitions];
        for (int r = 0; r < records; r++)
        {
            int range = rangeOf[r];
            data.AsSpan(r * RecordBytes, RecordBytes).CopyTo(blocks[range].AsSpan(filled[range]++ * RecordBytes));
        }

        using ShuffleWriter<byte[], byte[]> writer = shuffle.OpenWriter(context);
        foreach (byte[] block in blocks.Where(b => b.Length > 0))
        {
            writer.Add(block.AsSpan(0, KeyBytes).ToArray(), block);
        }

        return await writer.CompleteAsync();
    }

    /// <summary>The merge stage: one range's records, sorted, written as output part <paramref name="outputKey"/>.</summary>
    [Remote]
    public static async Task<RecordSummary> SortRange(ShufflePartition<byte[], byte[]> partition, string outputKey, RemoteContext context)
    {
        var blocks = new List<byte[]>();
        await foreach (KeyValuePair<byte[], byte[]> block in partition.ReadAsync(context))
        {
            blocks.Add(block.Value);
        }

        byte[] data = SortRecords(blocks);
        await context.Storage.PutAsync(outputKey, data, context.CancellationToken);
        return Summarize(data, output: true);
    }

    /// <summary>The records of <paramref name="blocks"/>, sorted by key (a stable order for equal keys: block, then place).</summary>
    public static byte[] SortRecords(IReadOnlyList<byte[]> blocks)
    {
        long total = blocks.Sum(b => (long)b.Length);
        if (total % RecordBytes != 0)
        {
            throw new InvalidOperationException($"{total} bytes is not a whole number of {RecordBytes}-byte records.");
        }

        // Sorted as (key, where) structs: ten key bytes as two integers, no record moved until the order is known.
        var order = new SortEntry[total / RecordBytes];
        int n = 0;
        for (int b = 0; b < blocks.Count; b++)
        {
            for (int offset = 0; offset < blocks[b].Length; offset += RecordBytes)
            {
                order[n++] = new SortEntry(SortKey.Of(blocks[b].AsSpan(offset, KeyBytes)), b, offset);
            }
        }

        Array.Sort(order);
        byte[] data = new byte[total];
        for (int i = 0; i < order.Length; i++)
        {
            blocks[order[i].Block].AsSpan(order[i].Offset, RecordBytes).CopyTo(data.AsSpan(i * RecordBytes));
        }

        return data;
    }

    /// <summary>The validation stage: reads an output part back and says whether it is in order, with its count and checksum.</summary>
    [Remote]
    public static async Task<RecordSummary> Validate(string outputKey, RemoteContext context)
    {
        byte[] data = await context.Storage.GetAsync(outputKey, context.CancellationToken) ?? throw new InvalidOperationException($"No output part '{outputKey}'.");
        return Summarize(data, output: true);
    }

    /// <summary>Count, checksum and key range of <paramref name="data"/>; for output, the first and last keys and the pairs out of order.</summary>
    public static RecordSummary Summarize(ReadOnlySpan<byte> data, bool output)
    {
        if (data.Length % RecordBytes != 0)
        {
            throw new InvalidOperationException($"{data.Length} bytes is not a whole number of {RecordBytes}-byte records.");
        }

        long records = data.Length / RecordBytes;
        ulong checksum = 0;
        long unordered = 0;
        ReadOnlySpan<byte> min = default, max = default;
        for (long r = 0; r < records; r++)
        {
            ReadOnlySpan<byte> record = data.Slice((int)(r * RecordBytes), RecordBytes);
            checksum = unchecked(checksum + Hash(record));
            ReadOnlySpan<byte> key = record[..KeyBytes];
            if (r > 0 && output && data.Slice((int)((r - 1) * RecordBytes), KeyBytes).SequenceCompareTo(key) > 0)
            {
                unordered++;
            }

            if (min.IsEmpty || key.SequenceCompareTo(min) < 0)
            {
                min = key;
            }

            if (max.IsEmpty || key.SequenceCompareTo(max) > 0)
            {
                max = key;
            }
        }

        return records == 0
            ? new RecordSummary(0, 0, "", "", 0)
            : output
                ? new RecordSummary(records, checksum, Convert.ToHexString(data[..KeyBytes]), Convert.ToHexString(data.Slice((int)((records - 1) * RecordBytes), KeyBytes)), unordered)
                : new RecordSummary(records, checksum, Convert.ToHexString(min), Convert.ToHexString(max), 0);
    }

    /// <summary>R - 1 boundaries from sampled keys: the keys at evenly spaced ranks.</summary>
    public static byte[][] Boundaries(IEnumerable<byte[]> samples, int partitions)
    {
        byte[][] sorted = samples.ToArray();
        Array.Sort(sorted, static (a, b) => a.AsSpan().SequenceCompareTo(b));
        return Enumerable.Range(1, partitions - 1).Select(i => sorted[(int)((long)i * sorted.Length / partitions)]).ToArray();
    }

    /// <summary>A 64-bit hash of one record (murmur3's finalizer over its twelve words and four bytes), the same everywhere.</summary>
    private static ulong Hash(ReadOnlySpan<byte> record)
    {
        ulong h = 0x9E3779B97F4A7C15;
        for (int i = 0; i + 8 <= record.Length; i += 8)
        {
            h = unchecked((h ^ BinaryPrimitives.ReadUInt64LittleEndian(record[i..])) * 0xFF51AFD7ED558CCD);
            h ^= h >> 29;
        }

        h = unchecked((h ^ BinaryPrimitives.ReadUInt32LittleEndian(record[^4..])) * 0xC4CEB9FE1A85EC53);
        return h ^ (h >> 33);
    }

    /// <summary>The range holding <paramref name="key"/>: range p holds boundaries[p - 1] &lt;= key &lt; boundaries[p], as the shuffle's.</summary>
    private static int RangeOf(SortKey key, SortKey[] boundaries)
    {
        int low = 0, high = boundaries.Length;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (key.CompareTo(boundaries[mid]) < 0)
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }

        return low;
    }

    private static void WriteHex(Span<byte> into, long value)
    {
        const string Digits = "0123456789ABCDEF";
        for (int i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (byte)Digits[(int)(value & 0xF)];
            value >>= 4;
        }
    }
}

/// <summary>A record's ten key bytes as two big-endian integers: comparing them is comparing the bytes.</summary>
internal readonly record struct SortKey(ulong High, ushort Low) : IComparable<SortKey>
{
    public static SortKey Of(ReadOnlySpan<byte> key) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(key), BinaryPrimitives.ReadUInt16BigEndian(key[8..]));

    public int CompareTo(SortKey other) => High != other.High ? High.CompareTo(other.High) : Low.CompareTo(other.Low);
}

/// <summary>Where a record is (block, byte offset), ordered by its key, then by where it is.</summary>
internal readonly record struct SortEntry(SortKey Key, int Block, int Offset) : IComparable<SortEntry>
{
    public int CompareTo(SortEntry other)
    {
        int byKey = Key.CompareTo(other.Key);
        return byKey != 0 ? byKey : Block != other.Block ? Block.CompareTo(other.Block) : Offset.CompareTo(other.Offset);
    }
}
