using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;
using Neutral;

namespace WordCount;

/// <summary>A word and how often it occurs.</summary>
public sealed record WordTally(string Word, long Count);

/// <summary>What a reducer returns for its partition: the totals and its most frequent words, never its whole vocabulary.</summary>
public sealed record PartitionSummary(long Words, long Distinct, WordTally[] Top);

/// <summary>
/// The remote half of the paper's BSP word count: map calls count the words of their chunks and shuffle the counts by
/// word into partitions; each reduce call sums one partition and returns its top words.
/// </summary>
public static class Words
{
    private static readonly char[] Separators = [' ', '\t', '\n', '\r'];
    private static readonly System.Buffers.SearchValues<byte> SeparatorBytes = System.Buffers.SearchValues.Create(" \t\n\r"u8);

    /// <summary>Counts the words of the lines <paramref name="chunk"/> owns and shuffles each word's count to its partition.</summary>
    [Remote]
    public static async Task<ShuffleMapOutput> Map(ObjectChunk chunk, Shuffle<string, long> shuffle, RemoteContext context)
    {
        byte[] text = await StorageInput.ReadAsync(context.Storage, chunk, context.CancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        CountUtf8Into(counts, text);
        // Counted here first: each word travels once per map call, not once per occurrence.
        using ShuffleWriter<string, long> writer = shuffle.OpenWriter(context);
        foreach (var (word, count) in counts)
        {
            writer.Add(word, count);
        }

        return await writer.CompleteAsync();
    }

    /// <summary>Sums one partition's counts and returns its totals and its <paramref name="top"/> most frequent words.</summary>
    [Remote]
    public static async Task<PartitionSummary> Reduce(ShufflePartition<string, long> partition, int top, RemoteContext context)
    {
        Dictionary<string, long> counts = await partition.CombineAsync(context, static (a, b) => a + b);
        return new PartitionSummary(counts.Values.Sum(), counts.Count, Top(counts, top));
    }

    /// <summary>Writes part <paramref name="part"/> of the made-up corpus (about <paramref name="bytes"/> bytes) to <paramref name="key"/>.</summary>
    [Remote]
    public static async Task<long> WriteCorpus(string key, int part, int bytes, RemoteContext context)
    {
        byte[] data = Corpus.Part(part, bytes);
        await context.Storage.PutAsync(key, data, context.CancellationToken);
        return data.Length;
    }

    /// <summary>
    /// Adds the words of UTF-8 <paramref name="utf8"/> to <paramref name="counts"/>, as <see cref="CountInto"/> does,
    /// decoding a line-aligned slice at a time into one reused buffer: no string of the whole text, so no fresh memory
    /// per chunk (which costs more than the counting on a machine where first touching a page is slow).
    /// </summary>
    public static void CountUtf8Into(Dictionary<string, long> counts, ReadOnlySpan<byte> utf8)
    {
        const int Slice = 256 * 1024;
        char[] buffer = System.Buffers.ArrayPool<char>.Shared.Rent(Slice + 1);
        try
        {
            while (!utf8.IsEmpty)
            {
                // Cut just after a separator (an ASCII byte): no word and no character is split.
                int take = utf8.Length;
                if (take > Slice)
                {
                    int cut = utf8[..Slice].LastIndexOfAny(SeparatorBytes);
                    int next = cut >= 0 ? cut : utf8.IndexOfAny(SeparatorBytes);
                    take = next >= 0 ? next + 1 : utf8.Length;
                }

                if (take > Slice)
                {
                    // One word longer than a slice: decoded on its own.
                    CountInto(counts, Encoding.UTF8.GetString(utf8[..take]));
                    utf8 = utf8[take..];
                    continue;
                }

                int chars = Encoding.UTF8.GetChars(utf8[..take], buffer);
                CountInto(counts, buffer.AsSpan(0, chars));
                utf8 = utf8[take..];
            }
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>Adds the words of <paramref name="text"/> (split on blanks and line ends, lower-cased) to <paramref name="counts"/> (an ordinal dictionary).</summary>
    public static void CountInto(Dictionary<string, long> counts, ReadOnlySpan<char> text)
    {
        Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> lower = stackalloc char[128];
        foreach (Range range in text.SplitAny(Separators))
        {
            ReadOnlySpan<char> word = text[range];
            if (word.IsEmpty)
            {
                continue;
            }

            ReadOnlySpan<char> key = word.Length <= lower.Length ? lower[..word.ToLowerInvariant(lower)] : word.ToString().ToLowerInvariant();
            CollectionsMarshal.GetValueRefOrAddDefault(lookup, key, out _)++;
        }
    }

    /// <summary>The <paramref name="top"/> most frequent words, ties by word.</summary>
    public static WordTally[] Top(IEnumerable<KeyValuePair<string, long>> counts, int top) =>
        counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(top).Select(p => new WordTally(p.Key, p.Value)).ToArray();
}

/// <summary>A made-up corpus, the same for the same part and size on any machine: a skewed draw from 50,000 words.</summary>
public static class Corpus
{
    private static readonly string[] Vocabulary = MakeVocabulary(50_000);

    /// <summary>
    /// Whole lines of 1 to 12 words, at most <paramref name="bytes"/> bytes (and within a line of it): a part split
    /// into chunks of its own size is one chunk, not one and a sliver.
    /// </summary>
    public static byte[] Part(int part, int bytes)
    {
        var random = new Random(1_000_003 * (part + 1));
        var text = new StringBuilder(bytes + 256);
        var line = new StringBuilder();
        while (true)
        {
            line.Clear();
            int words = random.Next(1, 13);
            for (int w = 0; w < words; w++)
            {
                // Cubed: a few words are very common, most are rare, as in real text.
                line.Append(Vocabulary[(int)(Vocabulary.Length * Math.Pow(random.NextDouble(), 3))]).Append(w + 1 < words ? ' ' : '\n');
            }

            // Vocabulary words are ASCII: a character is a byte.
            if (text.Length + line.Length > bytes)
            {
                return Encoding.UTF8.GetBytes(text.ToString());
            }

            text.Append(line);
        }
    }

    private static string[] MakeVocabulary(int size)
    {
        string[] syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "an", "el", "or", "ve", "di", "su", "ba", "te"];
        var words = new string[size];
        for (int i = 0; i < size; i++)
        {
            var word = new StringBuilder();
            int n = i;
            do
            {
                word.Append(syllables[n % syllables.Length]);
                n /= syllables.Length;
            }
            while (n > 0);
            words[i] = word.ToString();
        }

        return words;
    }
}
