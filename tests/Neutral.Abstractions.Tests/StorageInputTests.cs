using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using CsCheck;

namespace Neutral.Tests;

/// <summary><see cref="StorageInput"/>: chunks of stored objects, and the whole lines each one owns.</summary>
public sealed class StorageInputTests
{
    private static async Task<MemoryStore> StoreWith(params (string Key, string Text)[] objects)
    {
        var store = new MemoryStore();
        foreach (var (key, text) in objects)
        {
            await store.PutAsync(key, Encoding.UTF8.GetBytes(text));
        }

        return store;
    }

    private static async Task<List<ObjectChunk>> SplitAsync(IObjectStore store, string prefix, long chunkBytes)
    {
        var chunks = new List<ObjectChunk>();
        await foreach (ObjectChunk chunk in StorageInput.Split(store, prefix, chunkBytes))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    [Fact]
    public async Task Split_cuts_every_object_under_the_prefix_into_ranges_in_key_order_and_skips_empty_ones()
    {
        MemoryStore store = await StoreWith(("logs/b", "0123456789"), ("logs/a", "abcd"), ("logs/empty", ""), ("other/x", "zzzz"));
        List<ObjectChunk> chunks = await SplitAsync(store, "logs/", 4);
        Assert.Equal(
            [new ObjectChunk("logs/a", 0, 4), new ObjectChunk("logs/b", 0, 4), new ObjectChunk("logs/b", 4, 4), new ObjectChunk("logs/b", 8, 2)],
            chunks);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(StorageInput.MaxChunkBytes + 1)]
    public void Split_refuses_a_chunk_size_out_of_range_before_listing(long chunkBytes) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StorageInput.Split(new MemoryStore(), "", chunkBytes));

    [Fact]
    public async Task A_chunk_owns_the_lines_that_start_inside_it_and_reads_past_its_end_to_finish_the_last()
    {
        // "one\ntwo\nthree\n": lines start at 0, 4 and 8.
        MemoryStore store = await StoreWith(("t", "one\ntwo\nthree\n"));
        async Task<string> Read(long offset, long length) => Encoding.UTF8.GetString(await StorageInput.ReadAsync(store, new ObjectChunk("t", offset, length)));

        Assert.Equal("one\ntwo\n", await Read(0, 5));     // "two" starts at 4, inside [0, 5)
        Assert.Equal("three\n", await Read(5, 9));        // "two" started before: skipped
        Assert.Equal("two\n", await Read(4, 1));          // the byte before (3) is a newline: "two" starts here
        Assert.Equal("", await Read(1, 2));               // no line starts in [1, 3)
        Assert.Equal("", await Read(2, 2));               // [2, 4): the newline at 3 means the next line starts at 4, outside
        Assert.Equal("three\n", await Read(8, 100));      // a range past the object's end reads what is there
    }

    [Fact]
    public async Task A_line_longer_than_the_look_ahead_is_read_whole_by_the_chunk_it_starts_in_and_by_no_other()
    {
        string longLine = new('x', 300_000);
        MemoryStore store = await StoreWith(("t", "a\n" + longLine + "\nb"));
        List<ObjectChunk> chunks = await SplitAsync(store, "t", 1_000);
        var read = new List<string>();
        foreach (ObjectChunk chunk in chunks)
        {
            read.Add(Encoding.UTF8.GetString(await StorageInput.ReadAsync(store, chunk)));
        }

        Assert.Equal("a\n" + longLine + "\n", read[0]);
        Assert.All(read.Skip(1).Take(read.Count - 2), r => Assert.Equal("", r));
        Assert.Equal("b", read[^1]);
    }

    [Fact]
    public async Task The_chunks_of_an_object_cover_each_of_its_bytes_exactly_once_however_they_cut_its_lines()
    {
        Gen<string> lines = Gen.Char["ab\r\n"].Array[0, 30].Select(a => new string(a));
        await Task.Run(() => Gen.Select(lines, Gen.Long[1, 40]).Sample((text, chunkBytes) =>
        {
            MemoryStore store = StoreWith(("t", text)).GetAwaiter().GetResult();
            var joined = new StringBuilder();
            var joinedLines = new List<string>();
            foreach (ObjectChunk chunk in SplitAsync(store, "t", chunkBytes).GetAwaiter().GetResult())
            {
                joined.Append(Encoding.UTF8.GetString(StorageInput.ReadAsync(store, chunk).GetAwaiter().GetResult()));
                joinedLines.AddRange(StorageInput.ReadLinesAsync(store, chunk).GetAwaiter().GetResult());
            }

            string[] expectedLines = text.Length == 0 ? [] : text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToArray();
            if (text.EndsWith('\n'))
            {
                expectedLines = expectedLines[..^1];
            }

            return joined.ToString() == text && joinedLines.SequenceEqual(expectedLines);
        }));
    }

    [Fact]
    public async Task Lines_come_without_their_endings_and_decoded_as_utf8()
    {
        MemoryStore store = await StoreWith(("t", "héllo\r\nwörld\n\nlast"));
        Assert.Equal(["héllo", "wörld", "", "last"], await StorageInput.ReadLinesAsync(store, new ObjectChunk("t", 0, 100)));
    }

    [Fact]
    public async Task A_chunk_of_an_object_that_is_gone_says_so()
    {
        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => StorageInput.ReadAsync(new MemoryStore(), new ObjectChunk("gone", 10, 5)));
        Assert.Contains("'gone'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunk_with_a_negative_or_oversized_range_is_refused()
    {
        var store = new MemoryStore();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StorageInput.ReadAsync(store, new ObjectChunk("t", -1, 5)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StorageInput.ReadAsync(store, new ObjectChunk("t", 0, -5)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StorageInput.ReadAsync(store, new ObjectChunk("t", 0, StorageInput.MaxChunkBytes + 1)));
        Assert.Empty(await StorageInput.ReadAsync(store, new ObjectChunk("t", 0, 0)));
    }
}
