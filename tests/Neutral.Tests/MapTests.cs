using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Workers.Storage;

namespace Neutral.Tests;

public sealed class MapTests
{
    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task One_call_runs_end_to_end(string isolation)
    {
        await using var local = new LocalCloud(isolation);
        Assert.Equal(5, await local.Cloud.CallAsync(Remote.TestFunctions.Add(2, 3)));
    }

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task Map_with_record_and_tuple_arguments_keeps_the_order(string isolation)
    {
        await using var local = new LocalCloud(isolation);
        string[] results = await local.Cloud.MapAsync(Enumerable.Range(0, 50), i => Remote.TestFunctions.Describe(new Point(i, -i), (i * 10, "x" + i)));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{i},{-i}:{i * 10}x{i}"), results);
    }

    [Fact]
    public async Task An_empty_map_returns_an_empty_array_without_touching_storage()
    {
        await using var local = new LocalCloud();
        Assert.Empty(await local.Cloud.MapAsync(Array.Empty<RemoteCall<int>>()));
        Assert.False(Directory.Exists(local.JobsFolder) && Directory.EnumerateFileSystemEntries(local.JobsFolder).Any());
    }

    [Fact]
    public async Task Ten_thousand_calls_return_in_order()
    {
        await using var local = new LocalCloud();
        int[] results = await local.Cloud.MapAsync(Enumerable.Range(0, 10_000), i => Remote.TestFunctions.Square(i % 1000));
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => (i % 1000) * (i % 1000)), results);
    }

    [Fact]
    public async Task Map_reduce_sums_the_parts_remotely()
    {
        await using var local = new LocalCloud();
        long total = await local.Cloud.MapReduceAsync(
            Enumerable.Range(0, 10).Select(i => Remote.ContextFunctions.Count(i * 1000, (i + 1) * 1000)),
            parts => Remote.ContextFunctions.Total(parts));
        Assert.Equal(Enumerable.Range(0, 10_000).LongCount(i => i % 3 == 0), total);
    }

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task Arguments_and_results_of_64_MiB_travel_through_storage(string isolation)
    {
        await using var local = new LocalCloud(isolation);
        byte[] data = new byte[64 << 20];
        new Random(64).NextBytes(data);
        byte[] back = await local.Cloud.CallAsync(Remote.TestFunctions.Echo(data));
        Assert.True(data.AsSpan().SequenceEqual(back));
        byte[] made = await local.Cloud.CallAsync(Remote.TestFunctions.Make(64 << 20, 7));
        Assert.Equal(64 << 20, made.Length);
        Assert.All(made.Take(1000), b => Assert.Equal(7, b));
    }

    [Fact]
    public async Task Job_data_is_deleted_once_results_are_read()
    {
        await using var local = new LocalCloud();
        var job = local.Cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.TestFunctions.Echo(new byte[i * 1000])));
        await job.GetResultsAsync();
        await job.Completion;
        Assert.False(Directory.Exists(Path.Combine(local.JobsFolder, job.JobId)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(local.JobsFolder));
        Assert.False(Directory.Exists(Path.Combine(local.ControlJobsFolder, job.JobId)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(local.ControlJobsFolder));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("disk")]
    public async Task Job_data_is_kept_with_KeepData_following_the_storage_layout(string placement)
    {
        await using var local = new LocalCloud(configure: o => { o.Job.KeepData = true; o.Local.JobData = placement; });
        var job = local.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Make(i == 2 ? 20_000 : 10, 1)));
        await job.GetResultsAsync();
        // Control objects (manifest, markers, statuses) in memory by default (under /dev/shm), data objects on disk.
        string control = Path.Combine(placement == "disk" ? local.JobsFolder : local.ControlJobsFolder, job.JobId);
        string data = Path.Combine(local.JobsFolder, job.JobId);
        Assert.Equal(placement == "memory" && OperatingSystem.IsLinux(), control.StartsWith("/dev/shm/", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(control, "job.json")));
        var statusMarkers = new string[3];
        for (int i = 0; i < 3; i++)
        {
            // The status in the call's folder; the attempt's markers in its launch slot (protocol version 3). A small
            // success's status marker carries a copy of its status (version 4); call 2's result is too large for that.
            string status = Path.Combine(control, "calls", i.ToString("D6"), "status");
            Assert.True(File.Exists(status));
            string? payload = Wire.MarkerStatus.Encode(Wire.WireJson.DeserializeStatus(File.ReadAllBytes(status)));
            Assert.Equal(i < 2, payload is not null);
            statusMarkers[i] = i.ToString("D7") + ".1.status" + (payload is null ? "" : "." + payload);
            Assert.True(File.Exists(Path.Combine(control, "slots", "000000", i.ToString("D7") + ".1.started")));
            Assert.True(File.Exists(Path.Combine(control, "slots", "000000", statusMarkers[i])));
        }

        // Only the large result (over 8 KiB) is stored beside its status, and on disk.
        Assert.True(File.Exists(Path.Combine(data, "calls", "000002", "output.1")));
        Assert.False(File.Exists(Path.Combine(data, "calls", "000000", "output.1")));
        var manifest = Wire.WireJson.DeserializeManifest(File.ReadAllBytes(Path.Combine(control, "job.json")));
        Assert.Equal(3, manifest.CallCount);
        Assert.Equal("Neutral.Tests.TestFunctions.Make(int,byte)", manifest.FunctionId);

        // One store whatever the placement: a listing of the job holds every object, in key order.
        var store = new Storage.PrefixedObjectStore(new FileSystemObjectStore(local.Root, placement == "disk" ? null : FileSystemObjectStore.DefaultControlRoot(local.Root)), Cloud.InternalPrefix);
        var keys = new System.Collections.Generic.List<string>();
        await foreach (var info in store.ListAsync(Wire.StorageLayout.Job(job.JobId)))
        {
            keys.Add(info.Key[Wire.StorageLayout.Job(job.JobId).Length..]);
        }

        // input.bin holds every call's arguments and lease/000000 names the client that drives the job: a client that
        // attaches to it relaunches calls from them.
        Assert.Equal(["calls/000000/status", "calls/000001/status", "calls/000002/output.1", "calls/000002/status", "input.bin", "job.json", "lease/000000",
            "slots/000000/0000000.1.started", "slots/000000/" + statusMarkers[0], "slots/000000/0000001.1.started", "slots/000000/" + statusMarkers[1],
            "slots/000000/0000002.1.started", "slots/000000/" + statusMarkers[2]], keys);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_closed_client_leaves_no_memory_folder_unless_it_keeps_job_data(bool keep)
    {
        using var folder = new TempFolder("neutral-shm");
        string? memory = FileSystemObjectStore.DefaultControlRoot(folder.Path);
        if (memory is null)
        {
            return; // no /dev/shm: nothing is kept in memory
        }

        string jobId;
        await using (Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.KeepData = keep; }))
        {
            var job = cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Square(i)));
            await job.GetResultsAsync();
            jobId = job.JobId;
            Assert.True(Directory.Exists(memory));
        }

        Assert.Equal(keep, Directory.Exists(memory));
        Assert.Equal(keep, File.Exists(Path.Combine(memory, "_neutral", "jobs", jobId, "calls", "000002", "status")));
    }

    [Fact]
    public async Task Job_data_stays_on_disk_when_the_memory_folder_cannot_be_made()
    {
        using var folder = new TempFolder("neutral-nomem");
        string? memory = FileSystemObjectStore.DefaultControlRoot(folder.Path);
        if (memory is null)
        {
            return; // no /dev/shm: the default is the disk already (asserted by the KeepData test)
        }

        // A file where the folder would go: the client cannot use it, and keeps everything in its root.
        Directory.CreateDirectory(Path.GetDirectoryName(memory)!);
        File.WriteAllBytes(memory, []);
        try
        {
            await using (Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.KeepData = true; }))
            {
                var job = cloud.Submit([Remote.TestFunctions.Square(6)]);
                int[] results = await job.GetResultsAsync();
                Assert.Equal([36], results);
                Assert.True(File.Exists(Path.Combine(folder.Path, "_neutral", "jobs", job.JobId, "calls", "000000", "status")));
            }
        }
        finally
        {
            File.Delete(memory);
        }
    }

    [Fact]
    public async Task Two_jobs_run_at_once_on_one_cloud_and_two_clouds_share_one_store()
    {
        await using var local = new LocalCloud();
        await using var other = await Task.Run(() => Cloud.Connect(o => { o.Local.Root = local.Root; o.Local.Workers = 1; }));
        var a = local.Cloud.Submit(Enumerable.Range(0, 200).Select(i => Remote.TestFunctions.Add(i, 1)));
        var b = local.Cloud.Submit(Enumerable.Range(0, 200).Select(i => Remote.TestFunctions.Add(i, 2)));
        Task<int[]> c = other.MapAsync(Enumerable.Range(0, 200), i => Remote.TestFunctions.Add(i, 3));
        Assert.Equal(Enumerable.Range(1, 200), await a.GetResultsAsync());
        Assert.Equal(Enumerable.Range(2, 200), await b.GetResultsAsync());
        Assert.Equal(Enumerable.Range(3, 200), await c);
        Assert.NotEqual(a.JobId, b.JobId);
    }

    [Fact]
    public async Task Worker_processes_are_warm_and_reused_across_calls()
    {
        await using var local = new LocalCloud(workers: 2);
        int[] first = await local.Cloud.MapAsync(Enumerable.Range(0, 40), _ => Remote.TestFunctions.ProcessId());
        int[] second = await local.Cloud.MapAsync(Enumerable.Range(0, 40), _ => Remote.TestFunctions.ProcessId());
        // The pool's two processes served both maps: none was started for the second. (Under load the first map may
        // finish on one of them before the other is up, so the second may be the first to use it.)
        Assert.InRange(first.Concat(second).Distinct().Count(), 1, 2);
        Assert.DoesNotContain(Environment.ProcessId, first.Concat(second));
    }

    [Fact]
    public async Task Inproc_isolation_runs_calls_in_the_client_process()
    {
        await using var local = new LocalCloud("inproc");
        Assert.Equal(Environment.ProcessId, await local.Cloud.CallAsync(Remote.TestFunctions.ProcessId()));
    }
}
