using System;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Tests;

/// <summary>The executor on a platform that gives no hints: storage is the only signal, time is fake.</summary>
public sealed class SimulatedCloudTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>What a worker writes first: BeforeRun holds a call before the call loop writes it, so held "running" calls write it here.</summary>
    private static Task WriteStartedAsync(SimulatedRig rig, InvocationEnvelope e) =>
        rig.Memory.PutAsync(Cloud.InternalPrefix + StorageLayout.SlotMarker(e.JobId, e.Slot!.Value, e.CallIndex, e.Attempt, StorageLayout.StartedMarker), "started"u8.ToArray());

    [Fact]
    public async Task A_map_runs_with_storage_as_the_only_signal()
    {
        await using var rig = new SimulatedRig();
        rig.Platform.QueueDelay = TimeSpan.FromSeconds(2);
        rig.Platform.ColdStart = TimeSpan.FromSeconds(1);
        rig.Platform.WarmWorkers = 10;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 200).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * i), results);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
        Assert.Equal(200, rig.Platform.Invocations);
        await rig.DriveAsync(job.Completion, Hour);
        Assert.DoesNotContain(rig.Memory.Keys, k => k.Contains(job.JobId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invocation_that_never_starts_is_retried_after_the_start_bound()
    {
        await using var rig = new SimulatedRig(o => o.Job.StartTimeoutSeconds = 30);
        rig.Platform.Lose = e => e.CallIndex == 3 && e.Attempt == 1;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 10).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(5));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i), results);
        Assert.Equal(2, job[3].Stats.Attempt);
        Assert.Equal(1, rig.Platform.Lost);
        Assert.All(job.Futures.Where(f => f.CallIndex != 3), f => Assert.Equal(1, f.Stats.AttemptsStarted));
    }

    [Fact]
    public async Task A_deadline_counts_from_the_start_not_from_platform_queueing()
    {
        // 60 s in the platform's queue, then 8 s of work, under a 10 s timeout: the attempt is on time.
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.TimeoutSeconds = 10;
            o.Job.StartTimeoutSeconds = 120;
            o.Job.Speculation = false;
        });
        rig.Platform.QueueDelay = TimeSpan.FromSeconds(60);
        rig.Platform.BeforeRun = async (e, ct) =>
        {
            await WriteStartedAsync(rig, e);
            await Task.Delay(TimeSpan.FromSeconds(8), rig.Time, ct);
        };
        var job = rig.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(10));
        Assert.Equal([0, 1, 4, 9], results);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
    }

    [Fact]
    public async Task A_call_past_its_deadline_is_retried_with_no_hints()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.TimeoutSeconds = 10;
            o.Job.Speculation = false;
        });
        // Attempt 1 of call 1 never writes an outcome: it hangs until the platform is stopped.
        rig.Platform.BeforeRun = (e, ct) => e.CallIndex == 1 && e.Attempt == 1 ? Task.Delay(Timeout.Infinite, ct) : Task.CompletedTask;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(5));
        Assert.Equal([0, 1, 4], results);
        Assert.Equal(2, job[1].Stats.Attempt);
    }

    [Fact]
    public async Task A_retryable_failure_never_blocks_a_backup_that_succeeded()
    {
        await using var rig = new SimulatedRig();
        var backupStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstFailed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Platform.BeforeRun = async (e, ct) =>
        {
            if (e.CallIndex != 0)
            {
                return;
            }

            if (e.Attempt == 1)
            {
                // The straggler: started, and failing (retryably) only once the speculative backup runs.
                await WriteStartedAsync(rig, e);
                await backupStarted.Task.WaitAsync(ct);
            }
            else
            {
                backupStarted.TrySetResult();
                await firstFailed.Task.WaitAsync(ct);
            }
        };
        var job = rig.Cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.SimulatedFunctions.FailOnFirstAttempt(i + 100)));
        Task<int[]> results = job.GetResultsAsync();
        _ = Task.Run(async () =>
        {
            // Attempt 1's failure record lands before the backup writes its status.
            while (await rig.Memory.GetAsync(Cloud.InternalPrefix + StorageLayout.Failed(job.JobId, 0, 1)) is null)
            {
                await Task.Delay(2);
            }

            firstFailed.TrySetResult();
        });

        // Well under the 300 s timeout: the executor must not wait for an attempt that already finished.
        int[] values = await rig.DriveAsync(results, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(100, 20), values);
        Assert.Equal(2, job[0].Stats.Attempt);
        Assert.Equal(2, job[0].Stats.AttemptsStarted);
    }

    [Fact]
    public async Task Throttling_slows_the_launches_down_and_costs_no_attempt()
    {
        // No speculation: a backup of a last straggler (which a loaded machine can make of a call throttled a while)
        // is an attempt too, and this test counts attempts to show that throttling costs none.
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        rig.Platform.ConcurrencyLimit = 8;
        rig.Platform.QueueDelay = TimeSpan.FromMilliseconds(500);
        rig.Platform.RetryAfter = TimeSpan.FromMilliseconds(200);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 200).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * i), results);
        Assert.True(rig.Platform.Throttled > 0, "the platform never throttled: the test proves nothing");
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
        Assert.Equal(200, rig.Platform.Invocations);
    }

    [Fact]
    public async Task A_10000_call_map_survives_lost_invocations_duplicates_store_errors_and_listing_lag()
    {
        // About 3 % of attempts fail here (1 % lost, 1 % of each store write failing): with the default 2 retries, a
        // 10,000-call map would lose one call in four runs. Five retries make that one in 10^5, and the test is about
        // surviving the faults, not about the retry budget.
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.StartTimeoutSeconds = 20;
            o.Job.Retries = 5;
        }, seed: 11);
        rig.Platform.LossRate = 0.01;
        rig.Platform.DuplicateRate = 0.01;
        rig.Store.ErrorRate = 0.01;
        rig.Store.ListingLag = TimeSpan.FromSeconds(1);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 10_000).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour, TimeSpan.FromMilliseconds(200));
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => i * i), results);
        Assert.True(rig.Platform.Lost > 50, $"only {rig.Platform.Lost} invocations were lost");
        Assert.True(rig.Platform.Duplicates > 50, $"only {rig.Platform.Duplicates} invocations were duplicated");
        Assert.True(rig.Store.InjectedErrors > 50, $"only {rig.Store.InjectedErrors} store errors were injected");
        Assert.All(job.Futures, f => Assert.Equal(RemoteCallState.Succeeded, f.State));
    }

    private static HttpRequestException ConnectionRefused() =>
        new(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:9)", new SocketException((int)SocketError.ConnectionRefused));

    [Fact]
    public async Task Refused_connections_back_off_and_cost_no_attempt()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset>();
        rig.Platform.Refuse = e => e.CallIndex == 0 && refusals.Count < 5 ? Refusal(refusals, rig.Time.GetUtcNow()) : null;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour, TimeSpan.FromMilliseconds(20));
        Assert.Equal([0, 1, 4, 9], results);
        Assert.Equal(5, refusals.Count);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
        // Each wait is half to all of 100 ms x 2^try: 100-200, 200-400, 400-800, 800-1600 ms (the clock steps 20 ms).
        DateTimeOffset[] at = [.. refusals];
        for (int i = 1; i < at.Length; i++)
        {
            Assert.InRange((at[i] - at[i - 1]).TotalMilliseconds, 100 * Math.Pow(2, i - 1) - 1, 200 * Math.Pow(2, i) + 40);
        }
    }

    private static HttpRequestException Refusal(System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset> log, DateTimeOffset now)
    {
        log.Enqueue(now);
        return ConnectionRefused();
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_fails_the_job_after_backing_off_each_attempt()
    {
        await using var rig = new SimulatedRig(o => o.Job.Retries = 1);
        int refused = 0;
        rig.Platform.Refuse = _ =>
        {
            Interlocked.Increment(ref refused);
            return ConnectionRefused();
        };
        DateTimeOffset start = rig.Time.GetUtcNow();
        var job = rig.Cloud.Submit(Enumerable.Range(0, 2).Select(i => Remote.TestFunctions.Square(i)));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(job.GetResultsAsync(), Hour));
        TimeSpan took = rig.Time.GetUtcNow() - start;
        Assert.Equal(2, error.Failures.Count);
        Assert.All(error.Failures, f =>
        {
            Assert.Equal("Neutral.InvokeFailed", f.RemoteTypeName);
            Assert.Contains("Connection refused (127.0.0.1:9)", f.Message, StringComparison.Ordinal);
            Assert.Contains("no connection in 9 tries over", f.Message, StringComparison.Ordinal);
            Assert.Equal(2, f.Attempt);
        });
        // Two attempts per call, nine connection tries each; every attempt waited at least half of 0.2 + ... + 25.6 s.
        Assert.Equal(2 * 2 * 9, Volatile.Read(ref refused));
        Assert.True(took >= TimeSpan.FromSeconds(2 * 25.5), $"the job failed after {took.TotalSeconds:0.0} s of fake time: the retries were not spaced");
        Assert.Equal(0, rig.Platform.Invocations);
    }

    [Fact]
    public async Task An_invoke_whose_answer_times_out_counts_as_delivered_and_its_status_decides()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        rig.Platform.LoseAnswer = _ => new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 30 seconds elapsing.", new TimeoutException());
        var job = rig.Cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), results);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
        Assert.Equal(20, rig.Platform.Invocations);
    }

    [Fact]
    public async Task A_timed_out_invoke_that_never_arrived_is_retried_after_the_start_bound()
    {
        await using var rig = new SimulatedRig(o => o.Job.StartTimeoutSeconds = 30);
        rig.Platform.Refuse = e => e.CallIndex == 1 && e.Attempt == 1 ? new TimeoutException("no answer") : null;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(5));
        Assert.Equal([0, 1, 4], results);
        Assert.Equal(2, job[1].Stats.AttemptsStarted);
        Assert.Equal(1, job[0].Stats.AttemptsStarted);
    }

    [Fact]
    public async Task A_read_that_fails_in_the_client_faults_that_call_s_attempt_alone()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        int failures = 0;
        // Not a store error (those are retried, then end the job): a reader's own bug, as one CI run saw.
        rig.Store.FailRead = key => key.EndsWith("/calls/000003/status", StringComparison.Ordinal) && Interlocked.Increment(ref failures) <= 1
            ? new ArgumentOutOfRangeException("length", "a reader's bug") : null;
        // Results too large to ride in their markers (protocol version 4): each status is read.
        var job = rig.Cloud.Submit(Enumerable.Range(0, 10).Select(i => Remote.TestFunctions.Make(300, (byte)i)));
        byte[][] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => Enumerable.Repeat((byte)i, 300)), results);
        Assert.True(Volatile.Read(ref failures) >= 1, "the read never failed: the test proves nothing");
        Assert.Equal(2, job[3].Stats.AttemptsStarted);
        Assert.All(job.Futures.Where(f => f.CallIndex != 3), f => Assert.Equal(1, f.Stats.AttemptsStarted));
    }

    [Fact]
    public async Task A_call_whose_outcome_can_never_be_read_fails_alone_after_its_retries()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        rig.Store.FailRead = key => key.EndsWith("/calls/000003/status", StringComparison.Ordinal) ? new ArgumentOutOfRangeException("length", "a reader's bug") : null;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 10).Select(i => Remote.TestFunctions.Make(300, (byte)i)));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(job.GetResultsAsync(), Hour));
        RemoteException failure = Assert.Single(error.Failures);
        Assert.Equal(3, failure.CallIndex);
        Assert.Equal("Neutral.OutcomeUnreadable", failure.RemoteTypeName);
        Assert.Contains("failed after 3 attempts: reading status of call 3 failed: ArgumentOutOfRangeException", failure.Message, StringComparison.Ordinal);
        Assert.All(job.Futures.Where(f => f.CallIndex != 3), f => Assert.Equal(RemoteCallState.Succeeded, f.State));
    }

    [Fact]
    public async Task The_README_s_simulation_sample_gets_every_result_through_losses_duplicates_and_store_errors()
    {
        await using var sim = new Neutral.Testing.SimulatedNeutral(o => o.Job.Retries = 5);
        sim.Platform.LossRate = 0.05;
        sim.Platform.DuplicateRate = 0.05;
        sim.Store.ErrorRate = 0.01;
        int[] squares = await sim.DriveAsync(sim.Cloud.MapAsync(Enumerable.Range(1, 1000), i => Remote.TestFunctions.Square(i)));
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => i * i), squares);
        Assert.True(sim.Platform.Lost > 10 && sim.Platform.Duplicates > 10 && sim.Store.InjectedErrors > 10,
            $"too few faults to prove anything: {sim.Platform.Lost} lost, {sim.Platform.Duplicates} duplicated, {sim.Store.InjectedErrors} store errors");
    }

    [Fact]
    public async Task A_store_that_stays_down_fails_the_job_with_one_clear_error()
    {
        await using var rig = new SimulatedRig(o => o.Job.StoreRetrySeconds = 30);
        rig.Platform.BeforeRun = (_, _) =>
        {
            rig.Store.Down = true;
            return Task.CompletedTask;
        };
        var job = rig.Cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.TestFunctions.Square(i)));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(10)));
        Assert.Equal(5, error.Failures.Count);
        Assert.All(error.Failures, f => Assert.Contains("Job:StoreRetrySeconds", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cancelled_map_returns_at_once_even_when_calls_ignore_their_token_and_its_data_goes()
    {
        await using var rig = new SimulatedRig();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Platform.BeforeRun = (_, _) =>
        {
            started.TrySetResult();
            return Task.Delay(Timeout.Infinite, CancellationToken.None); // ignores every token
        };
        using var cancel = new CancellationTokenSource();
        Task<int[]> map = rig.Cloud.MapAsync(Enumerable.Range(0, 4), i => Remote.TestFunctions.Square(i), cancel.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => map).WaitAsync(TimeSpan.FromSeconds(30));

        // The job's folder is removed in the background (a second pass catches late writers).
        await rig.DriveAsync(Task.Run(async () =>
        {
            while (rig.Memory.Keys.Any(k => k.Contains("/jobs/", StringComparison.Ordinal)))
            {
                await Task.Delay(5);
            }
        }), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_progress_handler_that_throws_or_blocks_never_stalls_the_job()
    {
        await using var rig = new SimulatedRig();
        using var release = new ManualResetEventSlim();
        var job = rig.Cloud.Submit(Enumerable.Range(0, 50).Select(i => Remote.TestFunctions.Square(i)));
        int calls = 0;
        job.Progress += (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                release.Wait(TimeSpan.FromMinutes(1)); // blocks until the job is done
            }

            throw new InvalidOperationException("a handler bug");
        };
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(50, results.Length);
        release.Set();
        await rig.DriveAsync(Task.Run(async () =>
        {
            while (job.ProgressHandlerErrors == 0)
            {
                await Task.Delay(5);
            }
        }), Hour);
        Assert.True(job.ProgressHandlerErrors >= 1);
    }

    [Fact]
    public async Task A_call_that_ends_and_the_next_that_starts_in_one_listing_are_never_counted_running_together()
    {
        // One listing shows call 0's status marker and call 1's started marker (a worker that took its next call): the
        // outcome is applied before the start, so the job never counts two calls running. Applying the start first did
        // (peak 2): a progress bar showed more calls running than there were workers.
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        string run = Guid.NewGuid().ToString("N");
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Platform.BeforeRun = (e, ct) => e.CallIndex == 1 ? second.Task.WaitAsync(ct) : Task.CompletedTask;
        var job = rig.Cloud.Submit([Remote.SimulatedFunctions.WaitForGate($"{run}/0", 0), Remote.SimulatedFunctions.WaitForGate($"{run}/1", 1)]);

        // Call 0 seen running (its listing quiet for a while, so the next one waits for the clock).
        await rig.DriveAsync(Until(() => job.Current.Running == 1), TimeSpan.FromMinutes(1));

        for (int i = 0; i < 40; i++)
        {
            rig.Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }

        // With the clock standing still, wait until the store has had no request for a while: no listing is under way.
        long requests = -1;
        for (int quiet = 0; quiet < 10; quiet = rig.Requests.Lists + rig.Requests.Gets == requests ? quiet + 1 : 0)
        {
            requests = rig.Requests.Lists + rig.Requests.Gets;
            await Task.Delay(20);
        }

        Assert.Equal(1, job.Current.Running);

        // Call 0 ends and call 1 starts while the clock stands still: no listing in between.
        SimulatedFunctions.Gates.GetOrAdd($"{run}/0", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        second.TrySetResult();
        for (int waited = 0; !rig.Memory.Keys.Any(k => k.Contains(job.JobId, StringComparison.Ordinal) && k.Contains("/0000000.1.status", StringComparison.Ordinal))
            || !rig.Memory.Keys.Any(k => k.Contains(job.JobId, StringComparison.Ordinal) && k.EndsWith("/0000001.1.started", StringComparison.Ordinal)); waited++)
        {
            Assert.True(waited < 6000, "call 0's status and call 1's start were not written within 30 s");
            await Task.Delay(5);
        }

        Assert.Equal(1, job.Current.Running);
        await rig.DriveAsync(job[0].Task, TimeSpan.FromMinutes(1));
        await rig.DriveAsync(Until(() => job.Current.Running == 1), TimeSpan.FromMinutes(1));

        SimulatedFunctions.Gates.GetOrAdd($"{run}/1", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromMinutes(1));
        Assert.Equal([0, 1], results);
        Assert.Equal(1, job.Runner.PeakRunning);
    }

    /// <summary>Completes when <paramref name="condition"/> holds (checked every few real milliseconds, while the rig moves the clock).</summary>
    private static async Task Until(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(2);
        }
    }
}
