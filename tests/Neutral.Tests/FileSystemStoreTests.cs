using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Workers.Storage;

namespace Neutral.Tests;

/// <summary>What the file-system store does beyond the contract: keys it cannot represent, and cancellation.</summary>
public sealed class FileSystemStoreTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-fs-keys");
    private readonly FileSystemObjectStore _store;

    public FileSystemStoreTests() => _store = new FileSystemObjectStore(_folder.Path);

    public void Dispose() => _folder.Dispose();

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private async Task<ArgumentException> RefusedAsync(Func<Task> write, params string[] expected)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(write);
        Assert.DoesNotContain(_folder.Path, error.Message, StringComparison.Ordinal);
        foreach (string text in expected)
        {
            Assert.Contains(text, error.Message, StringComparison.Ordinal);
        }

        return error;
    }

    [Fact]
    public async Task A_key_that_is_also_a_folder_of_keys_is_refused_clearly()
    {
        await _store.PutAsync("a/b", Bytes("child"));
        await RefusedAsync(() => _store.PutAsync("a", Bytes("parent")), "'a'", "keys under 'a/'", "Use another key");
        await RefusedAsync(() => _store.TryCreateAsync("a", Bytes("parent")), "'a'", "keys under 'a/'");

        // Reading or deleting it finds no object, as on any store.
        Assert.Null(await _store.GetAsync("a"));
        Assert.Null(await _store.GetRangeAsync("a", 0, 1));
        Assert.False(await _store.DeleteAsync("a"));
        Assert.Equal(Bytes("child"), await _store.GetAsync("a/b"));
        Assert.Equal([Path.Combine(_folder.Path, "a", "b")], Directory.EnumerateFiles(_folder.Path, "*", SearchOption.AllDirectories)); // no temporary file left
    }

    [Fact]
    public async Task A_key_under_an_object_is_refused_clearly()
    {
        await _store.PutAsync("x", Bytes("parent"));
        await RefusedAsync(() => _store.PutAsync("x/y", Bytes("child")), "'x/y'", "'x' is an object", "delete 'x' first");
        await RefusedAsync(() => _store.TryCreateAsync("x/y/z", Bytes("child")), "'x/y/z'", "'x' is an object");
        Assert.Null(await _store.GetAsync("x/y"));
        Assert.Null(await _store.GetRangeAsync("x/y", 0, 1));
        Assert.False(await _store.DeleteAsync("x/y"));
        Assert.Equal(Bytes("parent"), await _store.GetAsync("x"));
    }

    [Fact]
    public async Task A_name_freed_by_deleting_its_keys_can_become_an_object()
    {
        await _store.PutAsync("p/q/r", Bytes("deep"));
        Assert.True(await _store.DeleteAsync("p/q/r"));
        await _store.PutAsync("p", Bytes("now an object"));
        Assert.Equal(Bytes("now an object"), await _store.GetAsync("p"));

        await _store.PutAsync("t/u", Bytes("child"));
        Assert.True(await _store.DeleteAsync("t/u"));
        Assert.True(await _store.TryCreateAsync("t", Bytes("created")));
        Assert.False(await _store.TryCreateAsync("t", Bytes("again")));
    }

    [Fact]
    public async Task A_segment_longer_than_file_names_allow_is_refused_clearly()
    {
        string longName = new('n', 256);
        string longUtf8 = string.Concat(Enumerable.Repeat("é", 128)); // 128 characters, 256 bytes
        foreach (string key in new[] { longName, "folder/" + longName, longName + "/leaf", "f/" + longUtf8 })
        {
            await RefusedAsync(() => _store.PutAsync(key, Bytes("x")), "256 bytes", "limited to 255");
            await RefusedAsync(() => _store.TryCreateAsync(key, Bytes("x")), "256 bytes");
            await RefusedAsync(() => _store.GetAsync(key), "256 bytes");
        }

        // The longest name a file system takes is fine, for objects and for folders deleted as a whole.
        string longest = new('m', 255);
        await _store.PutAsync("folder/" + longest, Bytes("ok"));
        Assert.True(await _store.TryCreateAsync("created/" + longest, Bytes("ok")));
        await _store.PutAsync(longest + "/leaf", Bytes("ok"));
        Assert.Equal(Bytes("ok"), await _store.GetAsync("folder/" + longest));
        Assert.Equal(1, await _store.DeletePrefixAsync(longest + "/"));
    }

    [Fact]
    public async Task Unpaired_surrogates_are_refused_by_every_operation()
    {
        foreach (string key in new[] { "a\uD800b", "\uDC00", "end\uD83D", "low\uDE00first" })
        {
            await RefusedAsync(() => _store.PutAsync(key, Bytes("x")), "unpaired", "surrogate");
            await RefusedAsync(() => _store.TryCreateAsync(key, Bytes("x")), "unpaired");
            await RefusedAsync(() => _store.GetAsync(key), "unpaired");
            await RefusedAsync(() => _store.DeleteAsync(key), "unpaired");
        }

        // A whole pair is a character like any other.
        await _store.PutAsync("emoji/\uD83D\uDE00", Bytes("ok"));
        Assert.Equal(Bytes("ok"), await _store.GetAsync("emoji/\uD83D\uDE00"));
    }

    [Fact]
    public async Task Every_call_with_a_cancelled_token_throws_before_doing_anything()
    {
        await _store.PutAsync("kept/one", Bytes("1"));
        await _store.PutAsync("kept/two", Bytes("2"));
        using var source = new CancellationTokenSource();
        await source.CancelAsync();
        CancellationToken cancelled = source.Token;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.PutAsync("new", Bytes("x"), cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.TryCreateAsync("created", Bytes("x"), cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.GetAsync("kept/one", cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.GetRangeAsync("kept/one", 0, 1, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ObjectInfo unused in _store.ListAsync("kept/", cancelled))
            {
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.DeleteAsync("kept/one", cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.DeletePrefixAsync("kept/", cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.DeletePrefixAsync("kept/o", cancelled));

        Assert.Null(await _store.GetAsync("new"));
        Assert.Null(await _store.GetAsync("created"));
        Assert.Equal(Bytes("1"), await _store.GetAsync("kept/one"));
        Assert.Equal(Bytes("2"), await _store.GetAsync("kept/two"));
    }
}

/// <summary>The user key space refuses Neutral's internal names, whatever the store.</summary>
public sealed class UserKeySpaceTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-user-keys");
    private readonly FileSystemObjectStore _root;
    private readonly UserObjectStore _user;

    public UserKeySpaceTests()
    {
        _root = new FileSystemObjectStore(_folder.Path);
        _user = new UserObjectStore(_root, Cloud.InternalPrefix);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_internal_prefix_itself_is_refused_as_a_key()
    {
        string name = Cloud.InternalPrefix.TrimEnd('/');
        await _root.PutAsync(Cloud.InternalPrefix + "jobs/j/job.json", new byte[] { 1 });
        foreach (Func<Task> use in new Func<Task>[]
        {
            () => _user.PutAsync(name, new byte[] { 1 }),
            () => _user.TryCreateAsync(name, new byte[] { 1 }),
            () => _user.GetAsync(name),
            () => _user.GetRangeAsync(name, 0, 1),
            () => _user.DeleteAsync(name),
        })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(use);
            Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
            Assert.Contains("Neutral keeps for its job data", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(_folder.Path, error.Message, StringComparison.Ordinal);
        }

        // Keys that merely start with the same letters are the user's.
        await _user.PutAsync(name + "-mine", new byte[] { 2 });
        await _user.PutAsync(name + "x/mine", new byte[] { 3 });

        // A listing or a bulk delete by a prefix of the internal name never reaches Neutral's objects.
        var keys = new List<string>();
        await foreach (ObjectInfo info in _user.ListAsync(name))
        {
            keys.Add(info.Key);
        }

        Assert.Equal([name + "-mine", name + "x/mine"], keys);
        Assert.Equal(2, await _user.DeletePrefixAsync(name));
        Assert.NotNull(await _root.GetAsync(Cloud.InternalPrefix + "jobs/j/job.json"));
    }
}
