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

            // Every piece ended by a \n loses a \r before it; the piece after the last \n (if any) keeps all it has.
            string[] pieces = text.Split('\n');
            string[] expectedLines = pieces.Take(pieces.Length - 1).Select(l => l.EndsWith('\r') ? l[..^1] : l)
                .Concat(pieces[^1].Length > 0 ? [pieces[^1]] : []).ToArray();

            return joined.ToString() == text && joinedLines.SequenceEqual(expectedLines);
        }));
    }

    [Fact]
    public async Task Lines_come_without_their_endings_and_decoded_as_utf8()
    {
        MemoryStore store = await StoreWith(("t", "héllo\r\nwörld\n\nlast\r"));
        // A lone \r at the object's end is not a line ending: it stays.
        Assert.Equal(["héllo", "wörld", "", "last\r"], await StorageInput.ReadLinesAsync(store, new ObjectChunk("t", 0, 100)));
    }

    [Fact]
    public async Task The_byte_order_mark_of_an_object_is_not_part_of_its_first_line()
    {
        MemoryStore store = await StoreWith(("t", "\uFEFFfirst\nsecond\n"));
        Assert.Equal(["first"], await StorageInput.ReadLinesAsync(store, new ObjectChunk("t", 0, 4)));
        Assert.Equal(["second"], await StorageInput.ReadLinesAsync(store, new ObjectChunk("t", 4, 100)));
    }

    [Fact]
    public async Task A_line_running_on_past_the_bound_is_refused_rather_than_read_whole()
    {
        // No line breaks at all: chunk 0 would otherwise read the whole object.
        MemoryStore store = await StoreWith(("t", new string('x', 200_000)));
        var error = await Assert.ThrowsAsync<System.IO.InvalidDataException>(() => StorageInput.ReadWithinAsync(store, new ObjectChunk("t", 0, 1_000), maxRunOn: 50_000, default));
        Assert.Contains("runs on more than 50000 bytes past the chunk", error.Message, StringComparison.Ordinal);
        // Within the bound the same read finishes the line at the object's end.
        Assert.Equal(200_000, (await StorageInput.ReadWithinAsync(store, new ObjectChunk("t", 0, 1_000), maxRunOn: 1_000_000, default)).Length);
    }

    [Fact]
    public async Task A_chunk_that_owns_its_whole_range_reads_only_its_range_and_the_byte_before()
    {
        var store = new CountingStore();
        await store.PutAsync("t", Encoding.UTF8.GetBytes("aaaa\nbbbb\ncccc\n"));
        Assert.Equal("bbbb\n", Encoding.UTF8.GetString(await StorageInput.ReadAsync(store, new ObjectChunk("t", 5, 5))));
        Assert.Equal([(4L, 6)], store.Ranges);
    }

    /// <summary>Records the ranges read.</summary>
    private sealed class CountingStore : IObjectStore
    {
        private readonly MemoryStore _inner = new();

        public List<(long Offset, int Length)> Ranges { get; } = [];

        public Task PutAsync(string key, ReadOnlyMemory<byte> data, System.Threading.CancellationToken cancellationToken = default) => _inner.PutAsync(key, data, cancellationToken);

        public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, System.Threading.CancellationToken cancellationToken = default) => _inner.TryCreateAsync(key, data, cancellationToken);

        public Task<byte[]?> GetAsync(string key, System.Threading.CancellationToken cancellationToken = default) => _inner.GetAsync(key, cancellationToken);

        public Task<byte[]?> GetRangeAsync(string key, long offset, int length, System.Threading.CancellationToken cancellationToken = default)
        {
            Ranges.Add((offset, length));
            return _inner.GetRangeAsync(key, offset, length, cancellationToken);
        }

        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, System.Threading.CancellationToken cancellationToken = default) => _inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string key, System.Threading.CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, cancellationToken);
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
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StorageInput.ReadAsync(store, new ObjectChunk("t", long.MaxValue - 2, 5)));
        // A chunk of length 0 owns nothing and reads nothing (so an object that is gone goes unnoticed).
        Assert.Empty(await StorageInput.ReadAsync(store, new ObjectChunk("gone", 0, 0)));
    }
}
