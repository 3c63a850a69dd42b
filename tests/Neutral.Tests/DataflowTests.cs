using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Testing;

namespace Neutral.Tests;

/// <summary>Calls that take other calls' results (futures as arguments): the data goes from worker to worker through storage.</summary>
public sealed class DataflowTests
{
    private static long Checksum(byte[] data)
    {
        long sum = 0;
        for (int i = 0; i < data.Length; i++)
        {
            sum += data[i] * (long)(i + 1);
        }

        return sum;
    }

    private static byte[] Block(int seed, int size) => Enumerable.Range(0, size).Select(i => (byte)((seed * 31 + i) % 251)).ToArray();

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task A_three_stage_chain_of_large_results_runs_on_the_local_provider(string isolation)
    {
        await using var local = new LocalCloud(isolation);
        RemoteJob<byte[]> blocks = local.Cloud.Submit(Enumerable.Range(0, 8).Select(i => Remote.FlowFunctions.Block(i, 20_000)));
        RemoteJob<byte[]> reversed = local.Cloud.Submit(blocks.Futures.Select(f => Remote.FlowFunctions.Reverse(f)));
        RemoteJob<long> sums = local.Cloud.Submit(reversed.Futures.Select(f => Remote.FlowFunctions.Checksum(f)));

        long[] results = await sums.GetResultsAsync();

        Assert.Equal(Enumerable.Range(0, 8).Select(i => Checksum(Block(i, 20_000).Reverse().ToArray())), results);
    }

    [Fact]
    public async Task A_fan_in_and_a_failed_input_on_the_local_provider()
    {
        await using var local = new LocalCloud();
        RemoteJob<long> parts = local.Cloud.Submit(Enumerable.Range(0, 100).Select(i => Remote.FlowFunctions.Twice(i)));
        Assert.Equal(Enumerable.Range(0, 100).Sum(i => 2L * i), await local.Cloud.CallAsync(Remote.TestFunctions.Sum(parts.Futures.ToArray())));

        RemoteJob<int> inputs = local.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.TestFunctions.FailIfOdd(i)));
        RemoteJob<int> squares = local.Cloud.Submit(inputs.Futures.Select(f => Remote.TestFunctions.Square(f)));
        RemoteJobException error = await Assert.ThrowsAsync<RemoteJobException>(() => squares.GetResultsAsync());
        Assert.Equal([1, 3], error.Failures.Select(f => f.CallIndex));
        Assert.All(error.Failures, f => Assert.Equal("Neutral.InputFailed", f.RemoteTypeName));
        Assert.Equal(4, await squares[2]);
    }

    [Fact]
    public async Task A_map_over_the_futures_of_a_map_mixes_futures_and_values()
    {
        await using var local = new LocalCloud();
        RemoteJob<int> squares = local.Cloud.Submit(Enumerable.Range(0, 50).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await local.Cloud.MapAsync(squares.Futures, f => Remote.TestFunctions.Add(f, 1));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * i + 1), results);
    }

    /// <summary>Counts the reads of each object whose key contains <paramref name="part"/>.</summary>
    private static System.Collections.Concurrent.ConcurrentDictionary<string, int> CountReads(SimulatedRig rig, string part)
    {
        var reads = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        rig.Requests.Reading = key =>
        {
            if (key.Contains(part, StringComparison.Ordinal))
            {
                reads.AddOrUpdate(key, 1, (_, n) => n + 1);
            }
        };
        return reads;
    }

    [Fact]
    public async Task A_chain_s_large_results_go_from_worker_to_worker_and_the_client_reads_none()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        var outputs = CountReads(rig, "/output.");

        RemoteJob<byte[]> blocks = rig.Cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.FlowFunctions.Block(i, 64 * 1024)));
        RemoteJob<byte[]> reversed = rig.Cloud.Submit(blocks.Futures.Select(f => Remote.FlowFunctions.Reverse(f)));
        RemoteJob<long> sums = rig.Cloud.Submit(reversed.Futures.Select(f => Remote.FlowFunctions.Checksum(f)));
        long[] results = await rig.DriveAsync(sums.GetResultsAsync());

        Assert.Equal(Enumerable.Range(0, 20).Select(i => Checksum(Block(i, 64 * 1024).Reverse().ToArray())), results);
        // Each of the 40 large results (20 blocks, 20 reversed) was read once, by the worker of the call that took it:
        // a client that read them too would make it 80.
        Assert.Equal(40, outputs.Count);
        Assert.All(outputs, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(20, outputs.Keys.Count(k => k.Contains(blocks.JobId, StringComparison.Ordinal)));
        Assert.Equal(20, outputs.Keys.Count(k => k.Contains(reversed.JobId, StringComparison.Ordinal)));

        // Left in storage, a result is read when the application asks for it, and the job's data waits for that.
        Assert.Equal(RemoteCallState.Succeeded, blocks[3].State);
        Assert.False(blocks.Completion.IsCompleted);
        Assert.Equal(Block(3, 64 * 1024), await rig.DriveAsync(blocks[3].Task));
        Assert.Equal(41, outputs.Values.Sum());
        byte[][] all = await rig.DriveAsync(blocks.GetResultsAsync());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Block(i, 64 * 1024)), all);
        await rig.DriveAsync(blocks.Completion);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(blocks.JobId, StringComparison.Ordinal));

        // The reversed blocks were never read: they keep their job's data until the cloud is disposed.
        Assert.False(reversed.Completion.IsCompleted);
        Assert.Contains(rig.Memory.Keys, k => k.Contains(reversed.JobId, StringComparison.Ordinal));
        await rig.DisposeAsync();
        Assert.True(reversed.Completion.IsCompleted);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(reversed.JobId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fan_in_of_a_thousand_futures_makes_one_call_that_reads_them_all()
    {
        await using var rig = new SimulatedRig();
        RemoteJob<long> parts = rig.Cloud.Submit(Enumerable.Range(0, 1000).Select(i => Remote.FlowFunctions.Twice(i)));
        RemoteCall<long> total = Remote.TestFunctions.Sum(parts.Futures.ToArray());
        Assert.Equal(1000, total.Inputs!.Count);

        RemoteJob<long> sum = rig.Cloud.Submit([total]);
        Assert.Equal(Enumerable.Range(0, 1000).Sum(i => 2L * i), await rig.DriveAsync(sum[0].Task));
        // The worker put the array together: a length and 1,000 longs.
        Assert.Equal(4 + 1000 * 8, sum[0].Stats.BytesIn);
    }

    [Fact]
    public async Task A_finished_future_whose_value_the_client_holds_is_passed_by_value()
    {
        await using var rig = new SimulatedRig();
        RemoteJob<int> squares = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Square(i + 2)));
        await rig.DriveAsync(squares.GetResultsAsync());

        RemoteCall<int> call = Remote.TestFunctions.Add(squares[2], squares[0]);
        Assert.Null(call.Inputs);
        Assert.Equal(16 + 4, await rig.DriveAsync(rig.Cloud.CallAsync(call)));
    }

    [Fact]
    public async Task A_failed_input_fails_the_dependent_call_naming_the_input_and_the_call_never_runs()
    {
        await using var rig = new SimulatedRig();
        RemoteJob<int> inputs = rig.Cloud.Submit(Enumerable.Range(0, 6).Select(i => Remote.TestFunctions.FailIfOdd(i)));
        RemoteJob<int> squares = rig.Cloud.Submit(inputs.Futures.Select(f => Remote.TestFunctions.Square(f)));

        RemoteJobException error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(squares.GetResultsAsync()));

        Assert.Equal([1, 3, 5], error.Failures.Select(f => f.CallIndex));
        RemoteException first = error.Failures[0];
        Assert.Equal("Neutral.InputFailed", first.RemoteTypeName);
        Assert.Contains($"input 'x' (call 1 of job {inputs.JobId}) failed", first.Message, StringComparison.Ordinal);
        Assert.Contains("odd input 1", first.Message, StringComparison.Ordinal);
        Assert.Null(squares[1].Stats.Invoked);
        Assert.Null(squares[1].Stats.WorkerStart);
        Assert.Equal(16, await squares[4]);
    }

    [Fact]
    public async Task A_cancelled_input_fails_the_dependent_call_naming_the_input()
    {
        await using var rig = new SimulatedRig();
        string gate = "dataflow-cancel-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> waiting = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.SimulatedFunctions.WaitForGate(gate, i)));
        RemoteJob<int> squares = rig.Cloud.Submit(waiting.Futures.Select(f => Remote.TestFunctions.Square(f)));

        await rig.DriveAsync(waiting.CancelAsync());
        RemoteJobException error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(squares.GetResultsAsync()));

        Assert.Equal(3, error.Failures.Count);
        Assert.All(error.Failures, f => Assert.Equal("Neutral.InputCancelled", f.RemoteTypeName));
        Assert.Contains($"input 'x' (call 0 of job {waiting.JobId}) was cancelled", error.Failures[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dependent_call_reads_the_output_of_the_attempt_that_won_not_a_losing_one()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = true);
        string gate = "dataflow-winner-" + Guid.NewGuid().ToString("N");
        RemoteJob<byte[]> tagged = rig.Cloud.Submit(Enumerable.Range(0, 10).Select(_ => Remote.FlowFunctions.TaggedAfterGate(gate, 16 * 1024)));
        // Made now, the calls hold the job's data, and its large results stay in storage.
        RemoteCall<int>[] firsts = tagged.Futures.Select(f => Remote.FlowFunctions.FirstByte(f)).ToArray();
        Assert.All(firsts, c => Assert.Single(c.Inputs!));

        // Call 0's first attempt hangs; a backup (attempt 2) wins. Then the first ends and writes its own output.
        await rig.DriveAsync(tagged.WaitAsync(ReturnWhen.All));
        Assert.Equal(2, tagged[0].Stats.Attempt);
        SimulatedFunctions.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        string loser = Wire.StorageLayout.Output(tagged.JobId, 0, 1);
        await rig.DriveAsync(WaitForAsync(() => rig.Memory.Keys.Any(k => k.EndsWith(loser, StringComparison.Ordinal))));

        int[] results = await rig.DriveAsync(rig.Cloud.MapAsync(firsts));

        Assert.Equal(2, results[0]);
        Assert.All(results.Skip(1), r => Assert.Equal(1, r));
    }

    [Fact]
    public async Task An_input_that_is_retried_gives_the_dependent_call_the_retry_s_value()
    {
        await using var rig = new SimulatedRig();
        RemoteJob<int> flaky = rig.Cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.SimulatedFunctions.FailOnFirstAttempt(i + 10)));
        int[] results = await rig.DriveAsync(rig.Cloud.MapAsync(flaky.Futures, f => Remote.TestFunctions.Square(f)));

        Assert.Equal(Enumerable.Range(0, 5).Select(i => (i + 10) * (i + 10)), results);
        Assert.All(flaky.Futures, f => Assert.Equal(2, f.Stats.Attempt));
    }

    [Fact]
    public async Task A_future_of_another_cloud_is_refused_at_submit_and_its_hold_let_go()
    {
        await using var rig = new SimulatedRig();
        await using var other = new SimulatedRig();
        RemoteJob<int> squares = rig.Cloud.Submit(Enumerable.Range(0, 2).Select(i => Remote.SimulatedFunctions.WaitForGate("never-" + Guid.NewGuid().ToString("N"), i)));
        RemoteCall<int> call = Remote.TestFunctions.Square(squares[0]);

        var error = Assert.Throws<ArgumentException>(() => other.Cloud.Submit([call]));
        Assert.Contains($"a future of job {squares.JobId}, which another Cloud runs", error.Message, StringComparison.Ordinal);
        await rig.DriveAsync(squares.CancelAsync());
    }

    [Fact]
    public async Task Cancelling_a_job_whose_calls_wait_for_inputs_cancels_them_and_lets_the_inputs_job_go()
    {
        await using var rig = new SimulatedRig();
        string gate = "dataflow-hold-" + Guid.NewGuid().ToString("N");
        RemoteJob<int> slow = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.SimulatedFunctions.WaitForGate(gate, i)));
        RemoteJob<int> squares = rig.Cloud.Submit(slow.Futures.Select(f => Remote.TestFunctions.Square(f)));

        await rig.DriveAsync(squares.CancelAsync());
        Assert.All(squares.Futures, f => Assert.Equal(RemoteCallState.Cancelled, f.State));

        SimulatedFunctions.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        int[] values = await rig.DriveAsync(slow.GetResultsAsync());
        Assert.Equal([0, 1, 2], values);
        // Small results, read with their statuses: once the dependent job has ended, nothing holds the job's data.
        await rig.DriveAsync(slow.Completion);
    }

    [Fact]
    public async Task A_call_submitted_again_after_its_input_s_data_is_gone_is_refused_with_the_fix()
    {
        await using var rig = new SimulatedRig();
        RemoteJob<byte[]> blocks = rig.Cloud.Submit([Remote.FlowFunctions.Block(1, 20_000)]);
        RemoteCall<long> sum = Remote.FlowFunctions.Checksum(blocks[0]);
        Assert.Single(sum.Inputs!);
        Assert.Equal(Checksum(Block(1, 20_000)), await rig.DriveAsync(rig.Cloud.CallAsync(sum)));
        // The block is still unread by this client: it holds its job until read.
        Assert.Equal(Block(1, 20_000), await rig.DriveAsync(blocks[0].Task));
        await rig.DriveAsync(blocks.Completion);

        var error = Assert.Throws<ArgumentException>(() => rig.Cloud.Submit([sum]));
        Assert.Contains("Make the call again from the future", error.Message, StringComparison.Ordinal);
        // Made again, the call carries the value the client now holds.
        Assert.Equal(Checksum(Block(1, 20_000)), await rig.DriveAsync(rig.Cloud.CallAsync(Remote.FlowFunctions.Checksum(blocks[0]))));
    }

    [Fact]
    public async Task A_result_left_in_storage_whose_read_fails_is_read_again_when_asked_again()
    {
        await using var rig = new SimulatedRig(o => o.Job.StoreRetrySeconds = 2);
        RemoteJob<byte[]> blocks = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.FlowFunctions.Block(i, 20_000)));
        long[] sums = await rig.DriveAsync(rig.Cloud.MapAsync(blocks.Futures, f => Remote.FlowFunctions.Checksum(f)));
        Assert.Equal(Enumerable.Range(0, 3).Select(i => Checksum(Block(i, 20_000))), sums);

        // The store refuses the first result's object for a while: that read fails, and the next one is made anew.
        string first = Wire.StorageLayout.Output(blocks.JobId, 0, 1);
        bool refusing = true;
        rig.Store.FailRead = key => refusing && key.EndsWith(first, StringComparison.Ordinal) ? new TimeoutException("the store is slow") : null;
        await Assert.ThrowsAnyAsync<Exception>(() => rig.DriveAsync(blocks.GetResultsAsync()));
        refusing = false;

        byte[][] all = await rig.DriveAsync(blocks.GetResultsAsync());
        Assert.Equal(Enumerable.Range(0, 3).Select(i => Block(i, 20_000)), all);
        // Read, every result lets the job go.
        await rig.DriveAsync(blocks.Completion);
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(5);
        }

        return true;
    }
}
