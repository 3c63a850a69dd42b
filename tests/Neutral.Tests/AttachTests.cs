using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Wire;

namespace Neutral.Tests;

/// <summary>Clients that attach to a job another client submitted, and the lease that says which of them drives it.</summary>
public sealed class AttachTests
{
    /// <summary>The rig's platform for another client: that client disposing it must not stop the rig's.</summary>
    private sealed class SharedPlatform(IComputeBackend inner) : IComputeBackend
    {
        public string Name => inner.Name;

        public StoreLocation Store => inner.Store;

        public ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default) => inner.InvokeAsync(envelope, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Another client of the rig's store and platform, on its clock (another process, as far as the store can tell).</summary>
    private static Cloud Client(SimulatedRig rig, int leaseSeconds)
    {
        var location = new StoreLocation(SimulatedRig.StorageName, "simulated", Cloud.InternalPrefix);
        var providers = new ProviderRegistry()
            .AddStorage(SimulatedRig.StorageName, _ => new StoreConnection(rig.Store, location))
            .AddCompute(SimulatedRig.ComputeName, _ => new SharedPlatform(rig.Platform), SimulatedRig.StorageName);
        return Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = SimulatedRig.ComputeName;
            o.Storage = SimulatedRig.StorageName;
            o.TimeProvider = rig.Time;
            o.Job.SweepAfterHours = 0;
            o.Job.LeaseSeconds = leaseSeconds;
            o.Job.Speculation = false;
        });
    }

    /// <summary>Another client, disposed while the rig's clock moves (its cleanup waits on that clock).</summary>
    private sealed class Driven(SimulatedRig rig, Cloud cloud) : IAsyncDisposable
    {
        public Cloud Cloud => cloud;

        public async ValueTask DisposeAsync() => await rig.DriveAsync(cloud.DisposeAsync().AsTask());
    }

    private static SimulatedRig Rig(int leaseSeconds = 6) => new(o =>
    {
        o.Job.LeaseSeconds = leaseSeconds;
        o.Job.Speculation = false;
    });

    /// <summary>Every attempt the platform ran, by call: (call, attempt) → how many times.</summary>
    private static ConcurrentDictionary<(int Call, int Attempt), int> RecordAttempts(SimulatedRig rig, string jobId)
    {
        var attempts = new ConcurrentDictionary<(int, int), int>();
        rig.Platform.BeforeRun = (envelope, _) =>
        {
            foreach (InvocationEnvelope call in envelope.Calls().Where(c => c.JobId == jobId))
            {
                attempts.AddOrUpdate((call.CallIndex, call.Attempt), 1, (_, n) => n + 1);
            }

            return Task.CompletedTask;
        };
        return attempts;
    }

    private static void Open(string gate) =>
        SimulatedFunctions.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    [Fact]
    public async Task An_attached_client_observes_a_running_job_gets_every_result_and_launches_nothing()
    {
        await using var rig = Rig();
        string gate = "attach-observe-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> driven = rig.Cloud.Submit(Enumerable.Range(0, 40).Select(i => Remote.SimulatedFunctions.WaitForGate(gate, i)));
        var attempts = RecordAttempts(rig, driven.JobId);
        await rig.DriveAsync(WaitForAsync(() => driven.Current.Running == 40));

        await using var other = new Driven(rig, Client(rig, 6));
        RemoteJob<int> attached = await rig.DriveAsync(other.Cloud.AttachAsync<int>(driven.JobId));
        Assert.Equal(40, attached.Count);
        Assert.False(attached.Driving);
        Assert.True(driven.Driving);

        // Renewed, the driver's lease never expires: the attached client waits, whatever the time.
        await rig.DriveAsync(Task.Delay(TimeSpan.FromSeconds(30), rig.Time));
        Assert.False(attached.Driving);
        Open(gate);

        int[] seen = await rig.DriveAsync(attached.GetResultsAsync());
        int[] own = await rig.DriveAsync(driven.GetResultsAsync());
        Assert.Equal(Enumerable.Range(0, 40), seen);
        Assert.Equal(own, seen);
        Assert.All(attempts, a => Assert.Equal((1, 1), (a.Key.Attempt, a.Value)));
        Assert.Equal(40, attempts.Count);

        // The driver deletes the job's data once the attached client has read its outcomes and gone.
        await rig.DriveAsync(attached.Completion);
        await rig.DriveAsync(driven.Completion);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(driven.JobId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_the_driver_is_gone_one_of_two_attached_clients_takes_over_and_relaunches_each_pending_call_once()
    {
        await using var rig = Rig(leaseSeconds: 30);
        string gate = "attach-takeover-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> driven = rig.Cloud.Submit(Enumerable.Range(0, 30).Select(i => Remote.SimulatedFunctions.WaitForGate(gate, i)));
        var attempts = RecordAttempts(rig, driven.JobId);
        await rig.DriveAsync(WaitForAsync(() => driven.Current.Running == 30));

        // A lease of 30 s: long enough that a loaded machine, whose loops lag the fake clock, never misses a renewal.
        await using var b = new Driven(rig, Client(rig, 30));
        await using var c = new Driven(rig, Client(rig, 30));
        RemoteJob<int> onB = await rig.DriveAsync(b.Cloud.AttachAsync<int>(driven.JobId));
        RemoteJob<int> onC = await rig.DriveAsync(c.Cloud.AttachAsync<int>(driven.JobId));
        Assert.False(onB.Driving || onC.Driving);

        // The driver dies (as if killed): its lease is not renewed, and after its length one attached client takes over.
        driven.Runner.Abandon();
        await rig.DriveAsync(WaitForAsync(() => onB.Driving || onC.Driving), limit: TimeSpan.FromSeconds(120));
        await rig.DriveAsync(Task.Delay(TimeSpan.FromSeconds(30), rig.Time));
        Assert.True(onB.Driving ^ onC.Driving, "exactly one attached client drives the job");

        Open(gate);
        int[] onBResults = await rig.DriveAsync(onB.GetResultsAsync());
        int[] onCResults = await rig.DriveAsync(onC.GetResultsAsync());
        Assert.Equal(Enumerable.Range(0, 30), onBResults);
        Assert.Equal(Enumerable.Range(0, 30), onCResults);

        // Each call ran its first attempt and one relaunch, numbered in generation 1: no call was retried twice, and
        // no attempt number was used twice.
        Assert.All(Enumerable.Range(0, 30), i => Assert.Equal([1, 1001], attempts.Keys.Where(k => k.Call == i).Select(k => k.Attempt).Order()));
        Assert.All(attempts, a => Assert.Equal(1, a.Value));

        await rig.DriveAsync(onB.Completion);
        await rig.DriveAsync(onC.Completion);
        await AfterLatePassAsync(rig);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(driven.JobId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_attaching_after_the_driver_died_takes_over_at_once_and_relaunches_what_is_left()
    {
        await using var rig = Rig(leaseSeconds: 6);
        string gate = "attach-late-" + Guid.NewGuid().ToString("N");
        // Even calls end at once; odd ones hang on their first attempt (as calls whose worker died with the client).
        RemoteJob<int> driven = rig.Cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.SimulatedFunctions.HangOnFirstAttempt(gate, i, i % 2 == 1)));
        await rig.DriveAsync(WaitForAsync(() => driven.Current.Succeeded == 10 && driven.Current.Running == 10));
        driven.Runner.Abandon();
        // Long after: the lease record has expired by its own clock.
        await rig.DriveAsync(Task.Delay(TimeSpan.FromSeconds(60), rig.Time));

        await using var later = new Driven(rig, Client(rig, 6));
        RemoteJob<int> attached = await rig.DriveAsync(later.Cloud.AttachAsync<int>(driven.JobId));
        // At its first look, not after watching the lease for its 6 s.
        await rig.DriveAsync(WaitForAsync(() => attached.Driving), limit: TimeSpan.FromSeconds(2));

        int[] results = await rig.DriveAsync(attached.GetResultsAsync());
        Assert.Equal(Enumerable.Range(0, 20), results);
        Assert.All(attached.Futures.Where(f => f.CallIndex % 2 == 0), f => Assert.Equal(1, f.Stats.Attempt));
        Assert.All(attached.Futures.Where(f => f.CallIndex % 2 == 1), f => Assert.Equal(1001, f.Stats.Attempt));
        Open(gate);
        await rig.DriveAsync(attached.Completion);
        await AfterLatePassAsync(rig);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(driven.JobId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_attached_client_whose_job_s_data_is_deleted_without_an_end_fails_what_it_did_not_see_end()
    {
        await using var rig = Rig(leaseSeconds: 30);
        string gate = "attach-gone-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> driven = rig.Cloud.Submit(Enumerable.Range(0, 10).Select(i => Remote.SimulatedFunctions.HangOnFirstAttempt(gate, i, i >= 5)));
        await rig.DriveAsync(WaitForAsync(() => driven.Current.Succeeded == 5 && driven.Current.Running == 5));
        await using var other = new Driven(rig, Client(rig, 30));
        RemoteJob<int> attached = await rig.DriveAsync(other.Cloud.AttachAsync<int>(driven.JobId));
        await rig.DriveAsync(WaitForAsync(() => attached.Current.Succeeded == 5));

        // The driver is interrupted and its job's data deleted with no end written: the attached client stops waiting.
        driven.Runner.Abandon();
        await rig.Memory.DeletePrefixAsync(Cloud.InternalPrefix + StorageLayout.Job(driven.JobId));
        RemoteJobException error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(attached.GetResultsAsync(), limit: TimeSpan.FromSeconds(10)));

        Assert.Equal([5, 6, 7, 8, 9], error.Failures.Select(f => f.CallIndex));
        Assert.Contains($"The data of job {driven.JobId} was deleted before this client saw call 5 end", error.Failures[0].Message, StringComparison.Ordinal);
        Assert.False(attached.Driving);
        Open(gate);
    }

    [Fact]
    public async Task Attaching_checks_the_job_the_function_and_the_result_type_with_clear_errors()
    {
        await using var rig = Rig();
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => rig.DriveAsync(rig.Cloud.AttachAsync<int>("20261206-000000-nosuchjob")));
        Assert.Contains("There is no job 20261206-000000-nosuchjob", missing.Message, StringComparison.Ordinal);

        string gate = "attach-errors-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> job = rig.Cloud.Submit(Enumerable.Range(0, 2).Select(i => Remote.SimulatedFunctions.WaitForGate(gate, i)));
        await rig.DriveAsync(WaitForAsync(() => job.Current.Running == 2));
        var wrongType = await Assert.ThrowsAsync<InvalidOperationException>(() => rig.DriveAsync(rig.Cloud.AttachAsync<string>(job.JobId)));
        Assert.Contains("which returns Int32, not String: attach with AttachAsync<Int32>", wrongType.Message, StringComparison.Ordinal);

        RemoteJob<int> dependent = rig.Cloud.Submit(job.Futures.Select(f => Remote.TestFunctions.Square(f)));
        await rig.DriveAsync(WaitForAsync(() => rig.Memory.Keys.Any(k => k.EndsWith(StorageLayout.Manifest(dependent.JobId), StringComparison.Ordinal))));
        var inputs = await Assert.ThrowsAsync<InvalidOperationException>(() => rig.DriveAsync(rig.Cloud.AttachAsync<int>(dependent.JobId)));
        Assert.Contains("take other calls' results", inputs.Message, StringComparison.Ordinal);

        Open(gate);
        await rig.DriveAsync(dependent.GetResultsAsync());
    }

    [Fact]
    public async Task A_job_of_several_functions_is_taken_over_with_each_call_relaunched_as_its_own_function()
    {
        // Three runs of calls: Square, Add, Square. The first attempts never start; the driver dies, and the attached
        // client relaunches every call with the function the manifest's runs name for it.
        await using var rig = Rig(leaseSeconds: 6);
        rig.Platform.BeforeRun = (e, ct) => e.Attempt < 1000 ? Task.Delay(Timeout.Infinite, ct) : Task.CompletedTask;
        RemoteCall<int>[] calls = Enumerable.Range(0, 30).Select(i => i is >= 10 and < 20 ? Remote.TestFunctions.Add(i, 100) : Remote.TestFunctions.Square(i)).ToArray();
        RemoteJob<int> driven = rig.Cloud.Submit(calls);
        await rig.DriveAsync(WaitForAsync(() => rig.Platform.Invocations >= 30));

        byte[] manifestBytes = (await rig.Memory.GetAsync(Cloud.InternalPrefix + StorageLayout.Manifest(driven.JobId)))!;
        JobManifest manifest = WireJson.DeserializeManifest(manifestBytes);
        Assert.True(manifest.MixedFunctions);
        Assert.Equal(["Neutral.Tests.TestFunctions.Square(int)", "Neutral.Tests.TestFunctions.Add(int,int)"], manifest.Functions!.Select(f => f.Id));
        Assert.Equal([0, 0, 10, 1, 20, 0], manifest.FunctionRuns!);

        await using var other = new Driven(rig, Client(rig, 6));
        RemoteJob<int> attached = await rig.DriveAsync(other.Cloud.AttachAsync<int>(driven.JobId));
        driven.Runner.Abandon();
        int[] results = await rig.DriveAsync(attached.GetResultsAsync(), limit: TimeSpan.FromMinutes(5));
        Assert.True(attached.Driving);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i is >= 10 and < 20 ? i + 100 : i * i), results);
        Assert.All(attached.Futures, f => Assert.Equal(1001, f.Stats.Attempt));
    }

    [Fact]
    public async Task A_job_of_several_functions_whose_manifest_does_not_say_which_call_runs_which_is_refused()
    {
        await using var rig = Rig();
        string gate = "attach-mixed-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> job = rig.Cloud.Submit([Remote.SimulatedFunctions.WaitForGate(gate, 1), Remote.SimulatedFunctions.HangOnFirstAttempt(gate, 2, true)]);
        await rig.DriveAsync(WaitForAsync(() => job.Current.Running == 2));
        string key = Cloud.InternalPrefix + StorageLayout.Manifest(job.JobId);
        JobManifest manifest = WireJson.DeserializeManifest((await rig.Memory.GetAsync(key))!);

        // As a Neutral older than these fields wrote it.
        await rig.Memory.PutAsync(key, WireJson.Serialize(manifest with { Functions = null, FunctionRuns = null }));
        var older = await Assert.ThrowsAsync<InvalidOperationException>(() => rig.DriveAsync(rig.Cloud.AttachAsync<int>(job.JobId)));
        Assert.Contains("does not say which call runs which", older.Message, StringComparison.Ordinal);

        // Runs that go backwards, or name a function the manifest does not list.
        foreach (int[] runs in new[] { new[] { 0, 0, 1, 1, 1, 0 }, new[] { 0, 2 }, new[] { 1, 0 }, new[] { 0 } })
        {
            await rig.Memory.PutAsync(key, WireJson.Serialize(manifest with { FunctionRuns = runs }));
            var malformed = await Assert.ThrowsAsync<InvalidOperationException>(() => rig.DriveAsync(rig.Cloud.AttachAsync<int>(job.JobId)));
            Assert.Contains("function runs of job", malformed.Message, StringComparison.Ordinal);
        }

        await rig.Memory.PutAsync(key, WireJson.Serialize(manifest));
        Open(gate);
        int[] results = await rig.DriveAsync(job.GetResultsAsync());
        Assert.Equal([1, 2], results);
    }

    [Fact]
    public async Task A_lease_renewal_still_being_written_when_the_driver_cleans_up_lands_before_the_delete()
    {
        // The driver renews its lease while it finishes (here: while a second job holds its results). A renewal still
        // being written when the hold ended used to land after the job's data was deleted, leaving the lease behind (an
        // object seen left over in a loaded test run).
        await using var rig = Rig(leaseSeconds: 6);
        string gate = "attach-renewal-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> first = rig.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.TestFunctions.Square(i)));
        RemoteJob<int> second = rig.Cloud.Submit(first.Futures.Select(f => Remote.SimulatedFunctions.HangOnFirstAttempt(gate, f, true)));
        int[] squares = await rig.DriveAsync(first.GetResultsAsync());
        Assert.Equal([0, 1, 4, 9], squares);

        // The first job now waits for the second, renewing its lease; its next renewal is held in the store.
        await rig.DriveAsync(Task.Delay(TimeSpan.FromSeconds(10), rig.Time));
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string leases = StorageLayout.Leases(first.JobId);
        rig.Store.BeforeWrite = key =>
        {
            if (key.Contains(leases, StringComparison.Ordinal))
            {
                writing.TrySetResult();
                return held.Task;
            }

            return Task.CompletedTask;
        };
        await rig.DriveAsync(writing.Task);

        // The hold ends while the renewal is still being written; the clock runs on, then the write completes.
        Open(gate);
        int[] passed = await rig.DriveAsync(second.GetResultsAsync());
        Assert.Equal([0, 1, 4, 9], passed);
        await rig.DriveAsync(Task.Delay(TimeSpan.FromSeconds(20), rig.Time));
        held.TrySetResult();
        await rig.DriveAsync(first.Completion);
        await rig.DriveAsync(second.Completion);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(first.JobId, StringComparison.Ordinal));
    }

    /// <summary>
    /// Moves the clock past the cleanup's second pass (10 s after the delete). After a takeover the old driver's attempts
    /// still run, and one that checked its job was there just before the delete may write its status afterwards; the
    /// second pass removes it (docs/executor.md).
    /// </summary>
    private static Task AfterLatePassAsync(SimulatedRig rig) => rig.DriveAsync(Task.Delay(TimeSpan.FromSeconds(15), rig.Time));

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(5);
        }

        return true;
    }
}
