using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

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
    }

    [Fact]
    public async Task Job_data_is_kept_with_KeepData_following_the_storage_layout()
    {
        await using var local = new LocalCloud(configure: o => o.Job.KeepData = true);
        var job = local.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Make(i == 2 ? 20_000 : 10, 1)));
        await job.GetResultsAsync();
        string folder = Path.Combine(local.JobsFolder, job.JobId);
        Assert.True(File.Exists(Path.Combine(folder, "job.json")));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(File.Exists(Path.Combine(folder, "calls", i.ToString("D6"), "status")));
            Assert.True(File.Exists(Path.Combine(folder, "calls", i.ToString("D6"), "started.1")));
        }

        // Only the large result (over 8 KiB) is stored beside its status.
        Assert.True(File.Exists(Path.Combine(folder, "calls", "000002", "output.1")));
        Assert.False(File.Exists(Path.Combine(folder, "calls", "000000", "output.1")));
        var manifest = Wire.WireJson.DeserializeManifest(File.ReadAllBytes(Path.Combine(folder, "job.json")));
        Assert.Equal(3, manifest.CallCount);
        Assert.Equal("Neutral.Tests.TestFunctions.Make(int,byte)", manifest.FunctionId);
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
