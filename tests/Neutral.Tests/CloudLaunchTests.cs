using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers;
using Xunit;

namespace Neutral.Tests;

/// <summary>
/// <c>Job:InvokeFrom=cloud</c>: the client stages groups of envelopes and invokes launcher calls, which invoke the
/// attempts from inside the platform under the client's rules; a launcher that fails or dies costs no call.
/// </summary>
public sealed class CloudLaunchTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>Counts the platform's invocations of the application's calls (launcher calls apart), by call and attempt.</summary>
    private static ConcurrentDictionary<(int Call, int Attempt), int> CountCalls(SimulatedRig rig, Func<InvocationEnvelope, Exception?>? refuse = null)
    {
        var invoked = new ConcurrentDictionary<(int, int), int>();
        rig.Platform.Refuse = e => e.FunctionId == CallRunner.LaunchFunctionId ? null : refuse?.Invoke(e);

        // Asked of invocations the platform took (not refused, not throttled).
        rig.Platform.Lose = e =>
        {
            if (e.FunctionId != CallRunner.LaunchFunctionId)
            {
                foreach (InvocationEnvelope call in e.Calls())
                {
                    invoked.AddOrUpdate((call.CallIndex, call.Attempt), 1, (_, n) => n + 1);
                }
            }

            return false;
        };
        return invoked;
    }

    [Fact]
    public async Task A_job_is_launched_by_a_few_launcher_calls_and_every_call_runs_once()
    {
        await using var rig = new SimulatedRig(o => o.Job.InvokeFrom = "cloud");
        var invoked = CountCalls(rig);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 3_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);

        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => i * i), results);
        Assert.Equal(3_000, invoked.Count);
        Assert.All(invoked, kv => Assert.Equal((1, 1), (kv.Key.Attempt, kv.Value)));

        // Groups of up to 500: at least six launcher calls, and most calls went through one (the client's pumps may
        // send a few small groups themselves while the job is being queued).
        Assert.InRange(rig.Platform.Launchers, 6, 20);
        Assert.True(rig.Platform.Invocations - rig.Platform.Launchers == 3_000);
    }

    [Fact]
    public async Task Launchers_back_off_when_the_platform_throttles_and_spend_no_attempt()
    {
        await using var rig = new SimulatedRig(o => o.Job.InvokeFrom = "cloud");
        rig.Platform.ConcurrencyLimit = 60;
        rig.Platform.QueueDelay = TimeSpan.FromSeconds(1);
        var invoked = CountCalls(rig);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 2_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);

        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => i * i), results);
        Assert.True(rig.Platform.Throttled > 100, $"{rig.Platform.Throttled} throttled invocations");
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.Attempt));
        Assert.Equal(2_000, invoked.Count);
        Assert.All(invoked.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_launcher_that_dies_midway_costs_its_unsent_calls_one_recorded_attempt_each()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.InvokeFrom = "cloud";
            o.Job.StartTimeoutSeconds = 30;
        });
        rig.Platform.LauncherDeath = e => e.Attempt == 1 ? 100 : null;
        var invoked = CountCalls(rig);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 2_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);

        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => i * i), results);
        Assert.Equal(1, rig.Platform.LaunchersDied);

        // The dead launcher's unsent calls were launched again, each as attempt 2, after their start bound; no attempt
        // number ran twice, and every attempt that ran is one the client recorded.
        int relaunched = job.Futures.Count(f => f.Stats.Attempt == 2);
        Assert.InRange(relaunched, 1, 500 - 100);
        Assert.All(job.Futures, f => Assert.InRange(f.Stats.Attempt, 1, 2));
        Assert.All(invoked.Values, n => Assert.Equal(1, n));
        Assert.Equal(job.Futures.Sum(f => f.Stats.AttemptsStarted), invoked.Count + relaunched);
        Assert.All(invoked.Keys, k => Assert.InRange(k.Attempt, 1, job[k.Call].Stats.AttemptsStarted));
    }

    [Fact]
    public async Task An_attempt_a_launcher_cannot_invoke_is_recorded_and_launched_again_before_its_start_bound()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.InvokeFrom = "cloud";
            o.Job.StartTimeoutSeconds = 600;
        });
        var invoked = CountCalls(rig, e => e.CallIndex % 50 == 0 && e.Attempt == 1 ? new InvalidOperationException("AccessDenied: not allowed to invoke") : null);
        DateTimeOffset start = rig.Time.GetUtcNow();
        var job = rig.Cloud.Submit(Enumerable.Range(0, 1_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);

        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => i * i), results);
        Assert.True(rig.Time.GetUtcNow() - start < TimeSpan.FromSeconds(60), $"the job took {rig.Time.GetUtcNow() - start}: the refused attempts waited for their start bound");
        foreach (int i in Enumerable.Range(0, 1_000))
        {
            Assert.Equal(i % 50 == 0 ? 2 : 1, job[i].Stats.Attempt);
        }

        Assert.Equal(1_000, invoked.Count);
    }

    [Fact]
    public async Task Launchers_that_fill_the_platform_s_concurrency_hand_their_calls_back_to_the_client()
    {
        // Two pumps: the 1,000 calls make exactly two launch groups (more pumps racing for the queue can make a third,
        // which waits for a place and then launches its calls as first attempts).
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.InvokeFrom = "cloud";
            o.Job.InvokeConcurrency = 2;
        });
        // Room for two invocations: the two launcher calls of 1,000 calls take it, and every invocation they send is
        // throttled until they give up.
        rig.Platform.ConcurrencyLimit = 2;
        var invoked = CountCalls(rig);
        DateTimeOffset start = rig.Time.GetUtcNow();
        var job = rig.Cloud.Submit(Enumerable.Range(0, 1_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);

        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => i * i), results);
        // The launchers gave up after a minute of throttling, not at their deadline (230 s), and the client sent the
        // second attempts itself.
        var second = job.Futures.Where(f => f.Stats.Attempt == 2).ToList();
        Assert.True(second.Count > 900, $"{second.Count} calls launched again by the client");
        // The worker's start of each second attempt (from its status; the invoke's acceptance may be applied after it).
        TimeSpan handedBack = second.Min(f => f.Stats.WorkerStart!.Value) - start;
        Assert.InRange(handedBack, CloudLaunch.StallLimit, TimeSpan.FromSeconds(100));
        Assert.All(job.Futures, f => Assert.InRange(f.Stats.Attempt, 1, 2));
        Assert.All(invoked.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_worker_that_cannot_invoke_itself_records_each_listed_attempt_as_not_run()
    {
        var store = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "b", Cloud.InternalPrefix);
        const string Job = "20261206-launch-test";
        InvocationEnvelope Call(int i) => new()
        {
            JobId = Job, CallIndex = i, Attempt = 1, Slot = 0, FunctionId = "f", SignatureHash = InvocationEnvelope.FormatHash(1), Store = location,
        };
        var jobs = new Storage.PrefixedObjectStore(store, location.Prefix);
        string key = StorageLayout.Launch(Job, 1);
        await jobs.PutAsync(key, LaunchList.Encode([Call(0), Call(1)]));
        var launcher = new InvocationEnvelope
        {
            JobId = Job, CallIndex = -1, Attempt = 1, FunctionId = CallRunner.LaunchFunctionId, SignatureHash = InvocationEnvelope.FormatHash(LaunchList.SignatureHash),
            InlineInput = LaunchList.Argument(key, 4), Store = location,
        };

        CallOutcome outcome = await new CallRunner(_ => store, "old").RunAsync(launcher);

        Assert.Equal(CallRunner.NoLauncherKind, outcome.ErrorKind);
        foreach (int i in new[] { 0, 1 })
        {
            StatusRecord failed = WireJson.DeserializeStatus(await jobs.GetAsync(StorageLayout.Failed(Job, i, 1)) ?? throw new InvalidOperationException("no failed record"));
            Assert.Equal(RemoteError.PlatformKind, failed.Error!.Kind);
            Assert.Contains("cannot invoke its own function", failed.Error.Message, StringComparison.Ordinal);
            Assert.NotNull(await jobs.GetAsync(StorageLayout.SlotMarker(Job, 0, i, 1, StorageLayout.FailedMarker)));
        }
    }

    [Fact]
    public void A_backend_without_a_cloud_to_launch_from_refuses_the_setting_at_connect()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o =>
        {
            o.Job.InvokeFrom = "cloud";
            o.Local.Workers = 1;
        }));
        Assert.Contains("Neutral:Job:InvokeFrom", error.Message, StringComparison.Ordinal);
        Assert.Contains("local compute backend's workers cannot invoke their own function", error.Message, StringComparison.Ordinal);
    }
}
