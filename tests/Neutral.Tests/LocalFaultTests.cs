using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Storage;

namespace Neutral.Tests;

/// <summary>Faults of the local provider's life: shared values across clients, cancelled work, dead clients' data.</summary>
public sealed class LocalFaultTests
{
    [Fact]
    public async Task Two_clouds_on_one_root_never_delete_each_others_shared_values()
    {
        using var folder = new TempFolder("neutral-two-clouds");
        long[] data = Enumerable.Range(1, 1000).Select(i => (long)i).ToArray();
        var first = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; });
        await using Cloud second = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; });
        Shared<long[]> a = await first.ShareAsync(data);
        Shared<long[]> b = await second.ShareAsync(data);
        Assert.Equal(data.Sum(), (await first.CallAsync(Remote.ContextFunctions.UseShared(a, 0))).Sum);
        await first.DisposeAsync();

        // The second cloud's workers fetch the value only now, after the first cloud deleted its own.
        Assert.Equal(data.Sum(), (await second.CallAsync(Remote.ContextFunctions.UseShared(b, 0))).Sum);
    }

    [Fact]
    public async Task A_later_job_never_waits_behind_a_cancelled_call_that_ignores_its_token()
    {
        await using var local = new LocalCloud(workers: 1);
        string marker = "markers/" + Guid.NewGuid().ToString("N");
        var stuck = local.Cloud.Submit([Remote.FaultFunctions.Sleep(120_000, 1)]);
        while (stuck[0].State != RemoteCallState.Running)
        {
            await Task.Delay(10);
        }

        await stuck.CancelAsync();
        Assert.Equal(RemoteCallState.Cancelled, stuck[0].State);

        // One worker, still busy with a call that ignores cancellation: it is killed and replaced, well before the
        // two minutes the call would take.
        int result = await local.Cloud.CallAsync(Remote.TestFunctions.Square(7)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(49, result);
    }

    [Fact]
    public async Task Connect_sweeps_old_jobs_of_dead_clients_and_keeps_those_of_live_ones()
    {
        using var folder = new TempFolder("neutral-sweep");
        var store = new PrefixedObjectStore(new FileSystemObjectStore(folder.Path, FileSystemObjectStore.DefaultControlRoot(folder.Path)), Cloud.InternalPrefix);
        using (var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            await gone.WaitForExitAsync();
            await WriteJobAsync(store, "20200101-000000-0000000001", $"{Environment.MachineName}/{gone.Id}/12345");
        }

        string self = Execution.CloudContext.OwnerOf(Environment.ProcessId);
        await WriteJobAsync(store, "20200101-000000-0000000002", self);
        await store.PutAsync(StorageLayout.Job("20200101-000000-0000000003") + "calls/000000/status", new byte[] { 1 }); // mid-deletion: no manifest
        await WriteJobAsync(store, JobIdNow(), "elsewhere/1/1"); // young: kept whatever its owner

        await using Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.SweepAfterHours = 1; });
        for (int i = 0; i < 3000 && (await JobIdsAsync(store)).Overlaps(["20200101-000000-0000000001", "20200101-000000-0000000003"]); i++)
        {
            await Task.Delay(10);
        }

        // Both roots: the manifests and markers were written where the client keeps control objects (memory), and
        // the sweep removed each swept job from both.
        var left = await JobIdsAsync(store);
        Assert.DoesNotContain("20200101-000000-0000000001", left);
        Assert.DoesNotContain("20200101-000000-0000000003", left);
        Assert.Contains("20200101-000000-0000000002", left);
        Assert.Equal(2, left.Count);
        string jobs = Path.Combine(folder.Path, "_neutral", "jobs");
        Assert.Empty(Directory.Exists(jobs) ? Directory.GetDirectories(jobs).Where(d => !Path.GetFileName(d).StartsWith('.')) : []);
    }

    [Fact]
    public async Task Connect_sweeps_the_shuffles_of_dead_clients_and_keeps_those_of_live_and_young_ones()
    {
        using var folder = new TempFolder("neutral-sweep-shuffles");
        var store = new PrefixedObjectStore(new FileSystemObjectStore(folder.Path, FileSystemObjectStore.DefaultControlRoot(folder.Path)), Cloud.InternalPrefix);
        const string Dead = "20200101-000000-00000000d1", Live = "20200101-000000-00000000a1";
        string young = JobIdNow()[..^2] + "y1";
        foreach (string client in new[] { Dead, Live, young })
        {
            await store.PutAsync(StorageLayout.ClientShuffles(client) + "20200101-000000-0000000123/000000/1-abc", new byte[] { 1 });
        }

        // The live client's record names this process; the dead one left none; the young one is too young to judge.
        await store.PutAsync(StorageLayout.Client(Live), System.Text.Encoding.UTF8.GetBytes(Execution.CloudContext.OwnerOf(Environment.ProcessId)));
        await using Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.SweepAfterHours = 1; });
        for (int i = 0; i < 3000 && await store.GetAsync(StorageLayout.ClientShuffles(Dead) + "20200101-000000-0000000123/000000/1-abc") is not null; i++)
        {
            await Task.Delay(10);
        }

        var left = new List<string>();
        await foreach (var info in store.ListAsync(StorageLayout.ShufflesFolder))
        {
            left.Add(info.Key.Split('/')[1]);
        }

        Assert.Equal(new[] { Live, young }.Order(StringComparer.Ordinal), left.Order(StringComparer.Ordinal));
    }

    private static async Task<HashSet<string>> JobIdsAsync(PrefixedObjectStore store)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync(StorageLayout.JobsFolder))
        {
            ids.Add(info.Key.Split('/')[1]);
        }

        return ids;
    }

    private static string JobIdNow() => DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-00000000ff";

    /// <summary>A job's manifest as a client writes it, owned by <paramref name="owner"/> (for the sweep tests).</summary>
    internal static Task WriteJobAsync(PrefixedObjectStore store, string jobId, string owner, bool kept = false) =>
        store.PutAsync(StorageLayout.Manifest(jobId), WireJson.Serialize(new JobManifest
        {
            JobId = jobId,
            FunctionId = "F()",
            SignatureHash = "0000000000000000",
            CallCount = 1,
            ClientVersion = "0",
            Owner = owner,
            Kept = kept,
        }));
}
