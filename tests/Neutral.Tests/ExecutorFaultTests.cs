using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Neutral.Execution;
using Neutral.Providers;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Tests;

/// <summary>Faults the executor survives, each on the simulated cloud or the parts that handle it.</summary>
public sealed class ExecutorFaultTests
{
    [Fact]
    public async Task Submit_returns_while_staging_still_writes()
    {
        await using var rig = new SimulatedRig();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Store.BeforeWrite = key => key.EndsWith("job.json", StringComparison.Ordinal) ? release.Task : Task.CompletedTask;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.TestFunctions.Square(i)));

        // Submit came back with the manifest write still held: nothing is invoked until it lands.
        Assert.Equal(0, rig.Platform.Invocations);
        Assert.All(job.Futures, f => Assert.Equal(RemoteCallState.Pending, f.State));
        release.SetResult();
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(5));
        Assert.Equal([0, 1, 4, 9, 16], results);
    }

    [Fact]
    public async Task A_job_cancelled_while_it_is_being_staged_ends_with_every_call_cancelled()
    {
        await using var rig = new SimulatedRig();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Store.BeforeWrite = key => key.EndsWith("job.json", StringComparison.Ordinal) ? release.Task : Task.CompletedTask;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.TestFunctions.Square(i)));

        Task cancelled = job.CancelAsync();
        // The staging write ends because the job was cancelled.
        release.SetException(new OperationCanceledException());
        await cancelled.WaitAsync(TimeSpan.FromSeconds(30));
        await job.WaitAsync(ReturnWhen.All).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(job.Futures, f => Assert.Equal(RemoteCallState.Cancelled, f.State));
        Assert.Equal(0, rig.Platform.Invocations);
    }

    [Fact]
    public async Task A_job_whose_staging_fails_fails_every_call_with_the_reason()
    {
        await using var rig = new SimulatedRig(o => o.Job.StoreRetrySeconds = 5);
        rig.Store.Down = true;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Square(i)));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(5)));
        Assert.Equal(3, error.Failures.Count);
        Assert.All(error.Failures, f => Assert.Contains("could not be staged", f.Message, StringComparison.Ordinal));
        Assert.Equal(0, rig.Platform.Invocations);
    }

    [Fact]
    public async Task Invocations_in_flight_are_bounded_per_cloud()
    {
        var blocking = new BlockingBackend();
        var store = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "bounded", Cloud.InternalPrefix);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(store, location))
            .AddCompute("blocking", _ => blocking);
        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "blocking";
            o.Storage = "memory";
            o.Job.InvokeConcurrency = 3;
            o.Job.SweepAfterHours = 0;
        });
        var first = cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.TestFunctions.Square(i)));
        var second = cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.TestFunctions.Square(i)));
        await blocking.WaitForInFlightAsync(3);
        blocking.Release();
        await blocking.WaitForInvocationsAsync(40);
        Assert.Equal(3, blocking.MaxInFlight);
        await first.CancelAsync();
        await second.CancelAsync();
    }

    [Fact]
    public async Task The_invoke_gate_halves_on_throttling_and_climbs_back()
    {
        var gate = new InvokeGate(8);
        await gate.EnterAsync(CancellationToken.None);
        gate.Exit(throttled: true);
        Assert.Equal(4, gate.Limit);
        await gate.EnterAsync(CancellationToken.None);
        gate.Exit(throttled: true);
        Assert.Equal(2, gate.Limit);
        for (int i = 0; i < 2 + 3 + 4 + 5 + 6 + 7; i++)
        {
            await gate.EnterAsync(CancellationToken.None);
            gate.Exit(throttled: false);
        }

        Assert.Equal(8, gate.Limit);
        for (int i = 0; i < 20; i++)
        {
            await gate.EnterAsync(CancellationToken.None);
            gate.Exit(throttled: false);
        }

        Assert.Equal(8, gate.Limit);
    }

    [Fact]
    public async Task A_future_state_is_final_before_its_task_completes()
    {
        await using var rig = new SimulatedRig();
        var job = rig.Cloud.Submit(Enumerable.Range(0, 50).Select(i => Remote.TestFunctions.FailIfOdd(i)));
        var seen = job.Futures.Select(f => f.Task.ContinueWith(_ => f.State, TaskContinuationOptions.ExecuteSynchronously)).ToArray();
        await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(5)));
        RemoteCallState[] states = await Task.WhenAll(seen);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i % 2 == 0 ? RemoteCallState.Succeeded : RemoteCallState.Failed), states);
    }

    [Fact]
    public async Task ShareAsync_records_a_value_only_after_its_write_succeeded()
    {
        await using var rig = new SimulatedRig(o => o.Job.StoreRetrySeconds = 1);
        rig.Store.Down = true;
        await Assert.ThrowsAnyAsync<Exception>(() => rig.DriveAsync(rig.Cloud.ShareAsync(new long[] { 1, 2, 3 }), TimeSpan.FromMinutes(1)));
        rig.Store.Down = false;
        Shared<long[]> shared = await rig.DriveAsync(rig.Cloud.ShareAsync(new long[] { 1, 2, 3 }), TimeSpan.FromMinutes(1));
        Assert.NotNull(await rig.Memory.GetAsync(Cloud.InternalPrefix + shared.Key));
    }

    [Fact]
    public void The_attempt_policy_times_attempts_from_their_start()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var policy = new AttemptPolicy(TimeSpan.FromSeconds(60), backendAnswersForQueue: false, speculation: true);
        var timeout = TimeSpan.FromSeconds(10);
        var state = new CallState { Launched = 1 };
        Assert.Equal(AttemptVerdict.None, policy.Judge(state, timeout, time.GetUtcNow(), 0, 1)); // not yet accepted
        state.InvokedAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(AttemptVerdict.None, policy.Judge(state, timeout, time.GetUtcNow(), 0, 1)); // queued on the platform
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(AttemptVerdict.NeverStarted, policy.Judge(state, timeout, time.GetUtcNow(), 0, 1));
        state.StartedAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(10.9));
        Assert.Equal(AttemptVerdict.None, policy.Judge(state, timeout, time.GetUtcNow(), 0, 1)); // within timeout + grace
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(AttemptVerdict.PastDeadline, policy.Judge(state, timeout, time.GetUtcNow(), 0, 1));

        var queued = new AttemptPolicy(TimeSpan.FromSeconds(60), backendAnswersForQueue: true, speculation: true);
        Assert.Equal(AttemptVerdict.None, queued.Judge(new CallState { Launched = 1, InvokedAt = time.GetUtcNow() - TimeSpan.FromHours(1) }, timeout, time.GetUtcNow(), 0, 1));
    }

    [Theory]
    [InlineData(0.002)]
    [InlineData(1.0)]
    [InlineData(600.0)]
    public void The_running_median_is_within_two_percent_at_any_scale(double scale)
    {
        // A skewed sample (most calls quick, a long tail), in a histogram of fixed size.
        var median = new AttemptPolicy.RunningMedian();
        var random = new Random(3);
        var values = Enumerable.Range(0, 20_001).Select(_ => scale * Math.Exp(random.NextDouble() * 3)).ToArray();
        foreach (double value in values)
        {
            median.Add(value);
        }

        double exact = values.Order().ElementAt(values.Length / 2);
        Assert.Equal(values.Length, median.Count);
        Assert.InRange(median.Median / exact, 0.98, 1.02);
        median.Add(exact * 1000);
        Assert.InRange(median.Median / exact, 0.98, 1.02);
    }

    [Fact]
    public void Speculation_waits_for_ninety_percent_and_three_medians()
    {
        var now = DateTimeOffset.UtcNow;
        var policy = new AttemptPolicy(TimeSpan.FromSeconds(60), backendAnswersForQueue: false, speculation: true);
        foreach (double seconds in new[] { 1.0, 1.0, 2.0, 1.0, 1.0 })
        {
            policy.RecordDuration(TimeSpan.FromSeconds(seconds));
        }

        Assert.InRange(policy.Median!.Value.TotalSeconds, 0.98, 1.02);
        var timeout = TimeSpan.FromSeconds(100);
        var straggler = new CallState { Launched = 1, InvokedAt = now - TimeSpan.FromSeconds(4), StartedAt = now - TimeSpan.FromSeconds(3.5) };
        Assert.Equal(AttemptVerdict.None, policy.Judge(straggler, timeout, now, 89, 100));
        Assert.Equal(AttemptVerdict.Backup, policy.Judge(straggler, timeout, now, 90, 100));
        straggler.StartedAt = now - TimeSpan.FromSeconds(2.9);
        Assert.Equal(AttemptVerdict.None, policy.Judge(straggler, timeout, now, 90, 100));
        straggler.StartedAt = now - TimeSpan.FromSeconds(3.5);
        straggler.Speculated = true;
        Assert.Equal(AttemptVerdict.None, policy.Judge(straggler, timeout, now, 90, 100));
        var off = new AttemptPolicy(TimeSpan.FromSeconds(60), backendAnswersForQueue: false, speculation: false);
        off.RecordDuration(TimeSpan.FromSeconds(1));
        Assert.Equal(AttemptVerdict.None, off.Judge(new CallState { Launched = 1, InvokedAt = now, StartedAt = now - TimeSpan.FromSeconds(50) }, timeout, now, 99, 100));
    }

    [Fact]
    public async Task A_transient_store_error_is_retried_and_a_permanent_one_is_not()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var memory = new InMemoryObjectStore();
        var faulty = new FaultInjectingObjectStore(memory, time) { ErrorRate = 0 };
        var store = new ResilientObjectStore(faulty, time, TimeSpan.FromSeconds(30), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        int failures = 2;
        faulty.BeforeWrite = _ => Interlocked.Decrement(ref failures) >= 0 ? Task.FromException(new IOException("503 Slow Down")) : Task.CompletedTask;
        Task put = store.PutAsync("k", new byte[] { 7 });
        while (!put.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(1);
        }

        await put;
        Assert.Equal(new byte[] { 7 }, await memory.GetAsync("k"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync("/absolute", new byte[] { 1 }));
    }

    [Fact]
    public async Task A_malformed_response_the_HTTP_stack_rejects_is_retried_but_a_bad_argument_is_not()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var memory = new InMemoryObjectStore();
        await memory.PutAsync("k", new byte[] { 7 });
        var faulty = new FaultInjectingObjectStore(memory, time) { ErrorRate = 0 };
        var store = new ResilientObjectStore(faulty, time, TimeSpan.FromSeconds(30), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        // What HttpConnection.ParseStatusLine threw when Ceph RGW sent a broken status line under load.
        int failures = 2;
        faulty.FailRead = _ => Interlocked.Decrement(ref failures) >= 0 ? System.Net.Http.MalformedResponse.Thrown() : null;
        Task<byte[]?> get = store.GetAsync("k");
        while (!get.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(1);
        }

        Assert.Equal(new byte[] { 7 }, await get);
        Assert.True(Volatile.Read(ref failures) < 0, "the read never failed: the test proves nothing");

        // The same exception from anywhere else is a caller's mistake, not retried.
        faulty.FailRead = _ => new ArgumentOutOfRangeException("length");
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetAsync("k"));
    }

    /// <summary>A backend whose invocations wait on one gate, counting how many are in flight.</summary>
    private sealed class BlockingBackend : IComputeBackend
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;
        private int _max;
        private int _done;

        public string Name => "blocking";

        public StoreLocation Store { get; } = new("memory", "bounded", Cloud.InternalPrefix);

        public int InFlight => Volatile.Read(ref _inFlight);

        public int MaxInFlight => Volatile.Read(ref _max);

        public async ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
        {
            int now = Interlocked.Increment(ref _inFlight);
            int max;
            while ((max = Volatile.Read(ref _max)) < now && Interlocked.CompareExchange(ref _max, now, max) != max)
            {
            }

            try
            {
                await _gate.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
                Interlocked.Increment(ref _done);
            }
        }

        public void Release() => _gate.TrySetResult();

        public async Task WaitForInFlightAsync(int count)
        {
            for (int i = 0; i < 3000 && InFlight < count; i++)
            {
                await Task.Delay(10);
            }
        }

        public async Task WaitForInvocationsAsync(int count)
        {
            for (int i = 0; i < 3000 && Volatile.Read(ref _done) < count; i++)
            {
                await Task.Delay(10);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
