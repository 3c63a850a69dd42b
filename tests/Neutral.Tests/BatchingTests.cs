using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Wire;
using Xunit;

namespace Neutral.Tests;

/// <summary>
/// <c>Job:CallsPerInvocation</c>: several calls of one function in one invocation, each keeping its own status,
/// attempts, timeout, retries and backup.
/// </summary>
public sealed class BatchingTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_map_runs_in_a_tenth_of_the_invocations_with_every_result_its_own()
    {
        await using var rig = new SimulatedRig(o => o.Job.CallsPerInvocation = 10);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 1_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => i * i), results);

        // Each invocation takes what is queued, up to ten: at most one short invocation per pump at the end.
        Assert.InRange(rig.Platform.Invocations, 100, 110);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.Attempt));
    }

    [Fact]
    public async Task In_a_batch_a_failing_a_timing_out_and_a_straggling_call_are_each_handled_alone()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.CallsPerInvocation = 10;
            o.Job.TimeoutSeconds = 30;
            o.Job.Retries = 1;
        });
        var job = rig.Cloud.Submit(Enumerable.Range(0, 40).Select(i => Remote.SimulatedFunctions.BatchProbe(i)));
        await rig.DriveAsync(job.WaitAsync(ReturnWhen.All), Hour);

        // 3 fails with its own exception, not retried; 5 times out on both attempts; 7's backup wins; the rest succeed
        // at their first attempt, those queued behind 5 and 7 in their invocation included.
        Assert.Equal(RemoteCallState.Failed, job[3].State);
        Assert.Equal(typeof(InvalidOperationException).FullName, job[3].Exception!.RemoteTypeName);
        Assert.Equal(1, job[3].Stats.AttemptsStarted);
        Assert.Equal(RemoteCallState.Failed, job[5].State);
        Assert.Equal(typeof(TimeoutException).FullName, job[5].Exception!.RemoteTypeName);
        Assert.InRange(job[5].Stats.AttemptsStarted, 2, 3); // its retry, and perhaps a backup while it hung
        Assert.Equal(RemoteCallState.Succeeded, job[7].State);
        Assert.Equal(2, job[7].Stats.Attempt);
        foreach (int i in Enumerable.Range(0, 40).Except([3, 5, 7]))
        {
            Assert.Equal(RemoteCallState.Succeeded, job[i].State);
            Assert.Equal(i, job[i].Result);
            Assert.Equal(1, job[i].Stats.Attempt);
        }

        Assert.True(rig.Platform.Invocations < 20, $"{rig.Platform.Invocations} invocations for 40 calls and 3 more attempts");
    }

    [Fact]
    public async Task An_invocation_carries_at_most_48_KiB_of_inline_arguments()
    {
        await using var rig = new SimulatedRig(o => o.Job.CallsPerInvocation = 100);
        int largest = 0;
        rig.Platform.Lose = e =>
        {
            int bytes = (e.InlineInput?.Length ?? 0) + (e.Batch?.Sum(b => b.InlineInput?.Length ?? 0) ?? 0);
            lock (rig)
            {
                largest = Math.Max(largest, bytes);
            }

            return false;
        };

        // 5 KiB of arguments a call: nine fit an invocation, not a hundred.
        var job = rig.Cloud.Submit(Enumerable.Range(0, 200).Select(i => Remote.TestFunctions.Length(new string('x', 5_000 + i))));
        int[] lengths = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => 5_000 + i), lengths);
        Assert.InRange(largest, 40 * 1024, 48 * 1024);
        Assert.True(rig.Platform.Invocations >= 200 / 9, $"{rig.Platform.Invocations} invocations");
    }

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task The_local_provider_runs_each_call_of_a_batch_in_its_own_worker(string isolation)
    {
        // Its pool has no invocation fee to save: a batch is split at once, each call reported on its own.
        await using var local = new LocalCloud(isolation, workers: 2, configure: o => o.Job.CallsPerInvocation = 25);
        var job = local.Cloud.Submit(Enumerable.Range(0, 100).Select(i => Remote.TestFunctions.FailIfOdd(i)));
        // Unsplit, a worker process would run only the first call of each batch (its pipe carries one call an envelope)
        // and the job would never end.
        await job.WaitAsync(ReturnWhen.All).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(job.Futures, f => Assert.Equal(f.CallIndex % 2 == 0 ? RemoteCallState.Succeeded : RemoteCallState.Failed, f.State));
        Assert.All(job.Futures.Where(f => f.CallIndex % 2 == 1), f => Assert.Contains($"odd input {f.CallIndex}", f.Exception!.Message, StringComparison.Ordinal));
    }

    /// <summary>Records each invocation's calls in the order the platform got them.</summary>
    private static List<int[]> RecordInvocations(SimulatedRig rig)
    {
        var invocations = new List<int[]>();
        rig.Platform.Lose = e =>
        {
            int[] calls = e.Calls().Select(c => c.CallIndex).ToArray();
            lock (invocations)
            {
                invocations.Add(calls);
            }

            return false;
        };
        return invocations;
    }

    [Fact]
    public async Task Automatic_batching_measures_single_calls_first_then_fills_invocations_within_the_job_s_width()
    {
        await using var rig = new SimulatedRig(o => o.Job.CallsPerInvocation = JobOptions.AutomaticCallsPerInvocation);
        List<int[]> invocations = RecordInvocations(rig);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 5_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => i * i), results);

        // The probe: eight single calls; the rest wait for their run times (none, on this clock: a thousand would fit
        // the target), then go five at a time, so that 5,000 calls still make a thousand invocations.
        Assert.All(invocations.Take(BatchSizer.Probe), calls => Assert.Single(calls));
        Assert.Equal(5, invocations.Max(calls => calls.Length));
        Assert.InRange(invocations.Count, 1_000, 1_080);
        Assert.Equal(5_000, invocations.Sum(calls => calls.Length));
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.Attempt));
    }

    [Fact]
    public async Task Automatic_batching_waits_five_seconds_at_most_for_the_probe_then_sends_slow_calls_one_an_invocation()
    {
        await using var rig = new SimulatedRig(o => o.Job.CallsPerInvocation = JobOptions.AutomaticCallsPerInvocation);
        List<int[]> invocations = RecordInvocations(rig);
        string gate = Guid.NewGuid().ToString("N");
        var job = rig.Cloud.Submit(Enumerable.Range(0, 1_100).Select(i => Remote.SimulatedFunctions.WaitForGate(gate, i)));
        await WaitUntilAsync(() => rig.Platform.Invocations >= BatchSizer.Probe);

        // No probe call ends: the others wait (4.8 s of the clock)...
        for (int step = 0; step < 48; step++)
        {
            rig.Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }

        Assert.Equal(BatchSizer.Probe, rig.Platform.Invocations);

        // ...and after five seconds go one an invocation: nothing measured says a batch would help.
        await rig.DriveAsync(WaitUntilAsync(() => rig.Platform.Invocations >= 1_100), TimeSpan.FromSeconds(10));
        SimulatedFunctions.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 1_100), results);
        Assert.Equal(1_100, invocations.Count);
        Assert.All(invocations, calls => Assert.Single(calls));
    }

    [Fact]
    public async Task A_call_behind_a_slow_one_in_its_batch_is_not_taken_for_lost()
    {
        // Start bound 5 s, timeout 30 s: the calls behind 5 (which hangs to its timeout) start 30 s after their
        // invocation was accepted. Each call's start bound grows by a timeout for each call before it.
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.CallsPerInvocation = 10;
            o.Job.StartTimeoutSeconds = 5;
            o.Job.TimeoutSeconds = 30;
            o.Job.Retries = 0;
            o.Job.Speculation = false;
        });
        List<int[]> invocations = RecordInvocations(rig);
        int[] inputs = [5, 10, 11, 12, 13, 14, 15, 16, 17, 18];
        var job = rig.Cloud.Submit(inputs.Select(i => Remote.SimulatedFunctions.BatchProbe(i)));
        await rig.DriveAsync(job.WaitAsync(ReturnWhen.All), Hour);

        int[] withFive = invocations.Single(calls => calls.Contains(0));
        int[] behind = withFive.SkipWhile(call => call != 0).Skip(1).ToArray();
        Assert.NotEmpty(behind);
        Assert.Equal(typeof(TimeoutException).FullName, job[0].Exception!.RemoteTypeName);
        foreach (int call in behind)
        {
            Assert.Equal(inputs[call], job[call].Result);
            Assert.Equal(1, job[call].Stats.AttemptsStarted);
        }
    }

    [Fact]
    public async Task Every_call_of_a_lost_batch_is_launched_again()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.CallsPerInvocation = 10;
            o.Job.StartTimeoutSeconds = 5;
            o.Job.TimeoutSeconds = 30;
        });
        var lost = new List<int>();
        rig.Platform.Lose = e =>
        {
            if (e.Attempt != 1 || !e.Calls().Any(c => c.CallIndex == 0))
            {
                return false;
            }

            lock (lost)
            {
                lost.AddRange(e.Calls().Select(c => c.CallIndex));
            }

            return true;
        };
        var job = rig.Cloud.Submit(Enumerable.Range(0, 10).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(10));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i), results);
        Assert.NotEmpty(lost);
        Assert.All(lost, call => Assert.Equal(2, job[call].Stats.Attempt));
    }

    [Theory]
    [InlineData(0.0001, 1000)]
    [InlineData(0.001, 1000)]
    [InlineData(0.01, 100)]
    [InlineData(0.25, 4)]
    [InlineData(2, 1)]
    public void An_automatic_batch_is_as_many_calls_as_fill_a_second(double medianSeconds, int calls) =>
        Assert.Equal(calls, BatchSizer.For(TimeSpan.FromSeconds(medianSeconds)));

    [Fact]
    public async Task The_sizer_chooses_once_the_probe_has_run_and_never_narrows_a_job_below_a_thousand_invocations()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var sizer = new BatchSizer(JobOptions.AutomaticCallsPerInvocation, 200_000, time);
        Assert.Equal(200, sizer.Most);
        for (int i = 0; i < BatchSizer.Probe; i++)
        {
            Assert.True(await sizer.ProbeAsync(CancellationToken.None));
        }

        ValueTask<bool> waiting = sizer.ProbeAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        for (int i = 0; i < BatchSizer.Probe; i++)
        {
            sizer.Record(TimeSpan.FromMilliseconds(20));
        }

        Assert.False(await waiting);
        Assert.Equal(50, sizer.Current);

        // Faster calls: a thousand would fit a second, the job's width allows 200.
        for (int i = 0; i < 2_048; i++)
        {
            sizer.Record(TimeSpan.FromMilliseconds(0.5));
        }

        Assert.Equal(200, sizer.Current);

        // A small job is never batched, and a fixed size is kept.
        Assert.Equal(1, new BatchSizer(JobOptions.AutomaticCallsPerInvocation, 1_000, time).Current);
        Assert.False(await new BatchSizer(JobOptions.AutomaticCallsPerInvocation, 1_000, time).ProbeAsync(CancellationToken.None));
        Assert.Equal(7, new BatchSizer(7, 10, time).Current);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not come true within a minute");
            await Task.Delay(5);
        }
    }

    [Fact]
    public void The_calls_of_a_batch_are_envelopes_of_one_call_each()
    {
        var store = new StoreLocation("memory", "b", "_neutral/");
        var envelope = new InvocationEnvelope
        {
            JobId = "j",
            CallIndex = 4,
            FunctionId = "F",
            SignatureHash = "0000000000000001",
            InlineInput = [1],
            Attempt = 1,
            Slot = 0,
            Store = store,
            Batch = [new BatchedCall(9, 2, 3, null, new InputRange("jobs/j/input.bin", 10, 5))],
        };
        InvocationEnvelope[] calls = envelope.Calls().ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Equal((4, 1, 0, (int?)1), (calls[0].CallIndex, calls[0].Attempt, calls[0].Slot, calls[0].InlineInput?.Length));
        Assert.Equal((9, 2, 3), (calls[1].CallIndex, calls[1].Attempt, calls[1].Slot!.Value));
        Assert.Null(calls[1].InlineInput);
        Assert.Equal(10, calls[1].InputRange!.Offset);
        Assert.All(calls, c => Assert.Null(c.Batch));
        Assert.All(calls, c => Assert.Equal("F", c.FunctionId));

        // And it survives the wire.
        InvocationEnvelope read = WireJson.DeserializeEnvelope(WireJson.Serialize(envelope));
        Assert.Equal(9, read.Batch!.Single().CallIndex);
        Assert.Equal(5, read.Batch!.Single().InputRange!.Length);
    }
}
