using System;
using System.Linq;
using System.Threading.Tasks;
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
