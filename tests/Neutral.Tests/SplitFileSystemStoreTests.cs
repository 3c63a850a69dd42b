using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Workers.Storage;

namespace Neutral.Tests;

/// <summary>
/// The file-system store with jobs' control objects in a second folder (memory-backed in the local provider's default):
/// one store to every reader, whichever folder a key's file is in.
/// </summary>
public sealed class SplitFileSystemStoreTests : IDisposable
{
    private readonly TempFolder _root = new("neutral-split");
    private readonly TempFolder _control = new("neutral-control");
    private readonly FileSystemObjectStore _store;

    public SplitFileSystemStoreTests() => _store = new FileSystemObjectStore(_root.Path, Path.Combine(_control.Path, "c"));

    public void Dispose()
    {
        _root.Dispose();
        _control.Dispose();
    }

    private string InRoot(string key) => Path.Combine(_root.Path, key);

    private string InControl(string key) => Path.Combine(_control.Path, "c", key);

    private async Task<List<string>> KeysAsync(string prefix)
    {
        var keys = new List<string>();
        await foreach (ObjectInfo info in _store.ListAsync(prefix))
        {
            keys.Add(info.Key);
        }

        return keys;
    }

    [Fact]
    public async Task Control_objects_of_jobs_go_to_the_control_folder_and_everything_else_to_the_root()
    {
        const string Call = "_neutral/jobs/j1/calls/000000/";
        await _store.PutAsync("_neutral/jobs/j1/job.json", new byte[] { 1 });
        await _store.PutAsync(Call + "started.1", new byte[] { 2 });
        await _store.PutAsync(Call + "failed.1", new byte[] { 3 });
        Assert.True(await _store.TryCreateAsync(Call + "status", new byte[] { 4 }));
        await _store.PutAsync(Call + "output.2", new byte[] { 5 });
        await _store.PutAsync("_neutral/jobs/j1/input.bin", new byte[] { 6 });
        await _store.PutAsync("reports/status", new byte[] { 7 }); // a user's key named like a status: not a job's

        foreach (string key in new[] { "_neutral/jobs/j1/job.json", Call + "started.1", Call + "failed.1", Call + "status" })
        {
            Assert.True(File.Exists(InControl(key)), key);
            Assert.False(File.Exists(InRoot(key)), key);
        }

        foreach (string key in new[] { Call + "output.2", "_neutral/jobs/j1/input.bin", "reports/status" })
        {
            Assert.True(File.Exists(InRoot(key)), key);
            Assert.False(File.Exists(InControl(key)), key);
        }

        Assert.Equal(new byte[] { 4 }, await _store.GetAsync(Call + "status"));
        Assert.Equal(new byte[] { 5 }, await _store.GetAsync(Call + "output.2"));
        Assert.Equal(new byte[] { 2 }, await _store.GetRangeAsync(Call + "started.1", 0, 10));
    }

    [Fact]
    public async Task Listings_merge_both_folders_in_key_order()
    {
        await _store.PutAsync("_neutral/jobs/j1/calls/000001/status", new byte[] { 1 });
        await _store.PutAsync("_neutral/jobs/j1/calls/000000/output.1", new byte[] { 1, 2 });
        await _store.PutAsync("_neutral/jobs/j1/calls/000000/status", new byte[] { 1 });
        await _store.PutAsync("_neutral/jobs/j1/input.bin", new byte[] { 1 });
        await _store.PutAsync("_neutral/jobs/j1/job.json", new byte[] { 1 });
        await _store.PutAsync("a", new byte[] { 1 });

        Assert.Equal(
            ["_neutral/jobs/j1/calls/000000/output.1", "_neutral/jobs/j1/calls/000000/status", "_neutral/jobs/j1/calls/000001/status", "_neutral/jobs/j1/input.bin", "_neutral/jobs/j1/job.json"],
            await KeysAsync("_neutral/jobs/j1/"));
        Assert.Equal(["_neutral/jobs/j1/calls/000000/output.1", "_neutral/jobs/j1/calls/000000/status"], await KeysAsync("_neutral/jobs/j1/calls/000000/"));
        Assert.Equal(6, (await KeysAsync("")).Count);
        Assert.Equal(["a"], await KeysAsync("a"));
    }

    [Fact]
    public async Task A_status_is_created_once_in_the_control_folder()
    {
        const string Status = "_neutral/jobs/j1/calls/000003/status";
        Assert.True(await _store.TryCreateAsync(Status, new byte[] { 1 }));
        Assert.False(await _store.TryCreateAsync(Status, new byte[] { 2 }));
        Assert.Equal(new byte[] { 1 }, await _store.GetAsync(Status));
        // The refused create left no temporary file behind, in either folder.
        Assert.Equal(["status"], Directory.GetFiles(Path.GetDirectoryName(InControl(Status))!).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.GetDirectoryName(InRoot(Status))));
        await _store.PutAsync("_neutral/jobs/j1/calls/000003/started.1", new byte[] { 3 });
        await _store.PutAsync("_neutral/jobs/j1/calls/000003/started.1", new byte[] { 4 });
        Assert.Equal(new byte[] { 4 }, await _store.GetAsync("_neutral/jobs/j1/calls/000003/started.1"));
        Assert.Equal(["started.1", "status"], Directory.GetFiles(Path.GetDirectoryName(InControl(Status))!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(await _store.DeleteAsync(Status));
        Assert.Null(await _store.GetAsync(Status));
    }

    [Fact]
    public async Task Deleting_a_job_s_folder_deletes_it_from_both_folders()
    {
        await _store.PutAsync("_neutral/jobs/j1/calls/000000/status", new byte[] { 1 });
        await _store.PutAsync("_neutral/jobs/j1/calls/000000/output.1", new byte[] { 1 });
        await _store.PutAsync("_neutral/jobs/j2/job.json", new byte[] { 1 });

        Assert.Equal(2, await _store.DeletePrefixAsync("_neutral/jobs/j1/"));
        Assert.Empty(await KeysAsync("_neutral/jobs/j1/"));
        Assert.False(Directory.Exists(InRoot("_neutral/jobs/j1")));
        Assert.False(Directory.Exists(InControl("_neutral/jobs/j1")));
        Assert.Equal(["_neutral/jobs/j2/job.json"], await KeysAsync("_neutral/"));
    }

    [Fact]
    public void The_control_folder_is_private_to_its_user()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_control.Path, "c")));
    }

    [Fact]
    public void The_default_control_folder_is_per_root_under_dev_shm_where_it_exists()
    {
        string? first = FileSystemObjectStore.DefaultControlRoot(_root.Path);
        string? second = FileSystemObjectStore.DefaultControlRoot(_control.Path);
        if (!Directory.Exists("/dev/shm"))
        {
            Assert.Null(first);
            return;
        }

        Assert.StartsWith("/dev/shm/neutral-", first);
        Assert.NotEqual(first, second);
        Assert.Equal(first, FileSystemObjectStore.DefaultControlRoot(_root.Path + "/./"));
    }

    [Fact]
    public void The_default_control_folder_is_named_by_user_id_and_FNV_1a_of_the_root_as_documented()
    {
        if (!Directory.Exists("/dev/shm") || OperatingSystem.IsWindows())
        {
            Assert.Null(FileSystemObjectStore.DefaultControlRoot(_root.Path));
            return;
        }

        // The documented name, computed here from its definition: no user-database lookup, no OpenSSL (docs/local-provider.md).
        ulong hash = 14695981039346656037UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(_root.Path).TrimEnd('/')))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        string uid = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
        Assert.Equal($"/dev/shm/neutral-{uid}/{hash:x16}", FileSystemObjectStore.DefaultControlRoot(_root.Path));
    }
}
