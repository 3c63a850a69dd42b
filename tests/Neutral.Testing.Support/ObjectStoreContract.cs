using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Storage;
using Xunit;

namespace Neutral.Testing;

/// <summary>
/// The contract every <see cref="IObjectStore"/> must pass. A provider's test class derives from it and supplies a
/// fresh, empty store; each test uses its own keys.
/// </summary>
public abstract class ObjectStoreContract
{
    /// <summary>A store to test: empty, or at least holding no key under <c>contract/</c>.</summary>
    protected abstract IObjectStore Store { get; }

    /// <summary>How many writers race for one create-only key; a store on a server takes more, to catch a race window.</summary>
    protected virtual int ConcurrentWriters => 16;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Key(string name) => "contract/" + Guid.NewGuid().ToString("N")[..8] + "/" + name;

    [Fact]
    public async Task Put_then_get_returns_the_bytes_and_overwrite_replaces_them()
    {
        string key = Key("a.txt");
        await Store.PutAsync(key, Bytes("one"));
        Assert.Equal(Bytes("one"), await Store.GetAsync(key));
        await Store.PutAsync(key, Bytes("second"));
        Assert.Equal(Bytes("second"), await Store.GetAsync(key));
    }

    [Fact]
    public async Task A_missing_object_reads_as_null()
    {
        Assert.Null(await Store.GetAsync(Key("missing")));
        Assert.Null(await Store.GetRangeAsync(Key("missing"), 0, 10));
    }

    [Fact]
    public async Task Empty_and_large_objects_round_trip()
    {
        string empty = Key("empty"), large = Key("large");
        byte[] data = new byte[8 << 20];
        new Random(5).NextBytes(data);
        await Store.PutAsync(empty, ReadOnlyMemory<byte>.Empty);
        await Store.PutAsync(large, data);
        Assert.Equal(Array.Empty<byte>(), await Store.GetAsync(empty));
        Assert.Equal(data, await Store.GetAsync(large));
    }

    [Fact]
    public async Task Try_create_succeeds_once_and_leaves_the_first_value()
    {
        string key = Key("status");
        Assert.True(await Store.TryCreateAsync(key, Bytes("first")));
        Assert.False(await Store.TryCreateAsync(key, Bytes("second")));
        Assert.Equal(Bytes("first"), await Store.GetAsync(key));
    }

    [Fact]
    public async Task Concurrent_try_creates_have_exactly_one_winner()
    {
        for (int round = 0; round < 5; round++)
        {
            string key = Key("race");
            bool[] won = await Task.WhenAll(Enumerable.Range(0, ConcurrentWriters).Select(i => Task.Run(() => Store.TryCreateAsync(key, Bytes("writer " + i)))));
            Assert.Equal(1, won.Count(w => w));
            int winner = Array.IndexOf(won, true);
            Assert.Equal(Bytes("writer " + winner), await Store.GetAsync(key));
        }
    }

    [Fact]
    public async Task Ranges_read_inside_and_are_cut_at_the_end()
    {
        string key = Key("range");
        await Store.PutAsync(key, Bytes("0123456789"));
        Assert.Equal(Bytes("345"), await Store.GetRangeAsync(key, 3, 3));
        Assert.Equal(Bytes("89"), await Store.GetRangeAsync(key, 8, 10));
        Assert.Equal(Array.Empty<byte>(), await Store.GetRangeAsync(key, 10, 5));
        Assert.Equal(Array.Empty<byte>(), await Store.GetRangeAsync(key, 50, 5));
        Assert.Equal(Bytes("0123456789"), await Store.GetRangeAsync(key, 0, 10));
    }

    [Fact]
    public async Task Listing_returns_keys_under_the_prefix_in_ordinal_order_with_sizes()
    {
        string folder = Key("list");
        string[] names = ["b", "a/2", "a/10", "a/1", "c.txt"];
        foreach (string name in names)
        {
            await Store.PutAsync(folder + "/" + name, Bytes(name));
        }

        await Store.PutAsync(folder + "-sibling", Bytes("x"));
        var all = await ToListAsync(Store.ListAsync(folder + "/"));
        Assert.Equal(names.Select(n => folder + "/" + n).OrderBy(k => k, StringComparer.Ordinal), all.Select(i => i.Key));
        Assert.Equal(names.OrderBy(n => folder + "/" + n, StringComparer.Ordinal).Select(n => (long)n.Length), all.Select(i => i.Size));

        // A prefix may end inside a name.
        var partial = await ToListAsync(Store.ListAsync(folder + "/a/1"));
        Assert.Equal([folder + "/a/1", folder + "/a/10"], partial.Select(i => i.Key));
        Assert.Empty(await ToListAsync(Store.ListAsync(folder + "/nothing/")));
    }

    [Fact]
    public async Task Delete_reports_whether_the_object_existed()
    {
        string key = Key("gone");
        await Store.PutAsync(key, Bytes("x"));
        Assert.True(await Store.DeleteAsync(key));
        Assert.False(await Store.DeleteAsync(key));
        Assert.Null(await Store.GetAsync(key));
        Assert.True(await Store.TryCreateAsync(key, Bytes("again")));
    }

    [Fact]
    public async Task Deleting_a_prefix_removes_everything_under_it_and_nothing_else()
    {
        string folder = Key("bulk");
        for (int i = 0; i < 20; i++)
        {
            await Store.PutAsync($"{folder}/calls/{i:D6}/status", Bytes("s"));
        }

        await Store.PutAsync(folder + "-keep", Bytes("k"));
        Assert.Equal(20, await Store.DeletePrefixAsync(folder + "/"));
        Assert.Empty(await ToListAsync(Store.ListAsync(folder + "/")));
        Assert.NotNull(await Store.GetAsync(folder + "-keep"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/absolute")]
    [InlineData("back\\slash")]
    [InlineData("control\u0001char")]
    [InlineData("")]
    [InlineData("double//slash")]
    public async Task Invalid_keys_are_refused_with_an_argument_exception(string key)
    {
        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.PutAsync(key, Bytes("x")));
        Assert.Contains("invalid", error.Message);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync(key));
    }

    [Fact]
    public async Task Keys_with_unpaired_surrogates_are_refused_with_an_argument_exception()
    {
        // Not theory data: a lone surrogate does not survive the test runner's serialization of arguments.
        foreach (string key in new[] { Key("lone\uD800high"), Key("\uDC00"), Key("ends\uD83D") })
        {
            var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.PutAsync(key, Bytes("x")));
            Assert.Contains("unpaired", error.Message);
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.TryCreateAsync(key, Bytes("x")));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync(key));
        }
    }

    private static async Task<List<ObjectInfo>> ToListAsync(IAsyncEnumerable<ObjectInfo> items)
    {
        var list = new List<ObjectInfo>();
        await foreach (ObjectInfo item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
