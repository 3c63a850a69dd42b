using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Neutral.Dispatch;
using Neutral.Wire;
using Xunit;
using Xunit.Abstractions;

namespace Neutral.Testing.Compute;

/// <summary>
/// What every compute provider must do on its platform's emulated stack, end to end: a worker killed in the middle of a
/// call, throttling, speculation, cancellation with deliveries held back, a stale and a missing deployment, the store
/// restarted mid-job, a malformed event, an init error, user failures and exact invocation counts. A provider's test
/// project derives one small class that supplies its <see cref="ComputeRig"/>; what a platform cannot do its rig says,
/// and the test is reported skipped with the reason. The client's clock is fake where a test depends on time; the
/// platform's processes run in real time.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public abstract class ComputeBackendContract(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly List<ServiceProvider> _services = [];
    private ComputeRig? _rig;

    /// <summary>The stack under test (after <see cref="StartAsync"/>).</summary>
    protected ComputeRig Rig => _rig ?? throw new InvalidOperationException("StartAsync first");

    /// <summary>A fresh, unstarted rig of the provider's stack.</summary>
    protected abstract ComputeRig CreateRig();

    /// <inheritdoc/>
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        foreach (ServiceProvider services in _services)
        {
            await FakeClockDriver.DisposeAsync(services, _time);
        }

        if (_rig is not null)
        {
            // Shown with a failed test: what the platform did, and when.
            output.WriteLine(_rig.Journal);
            await _rig.DisposeAsync();
        }
    }

    private async Task StartAsync(RigOptions? options = null)
    {
        _rig = CreateRig();
        await _rig.StartAsync(options ?? new RigOptions());
    }

    /// <summary>A cloud on the stack; on the test's fake clock when <paramref name="fakeClock"/>.</summary>
    private Cloud Connect(bool fakeClock, params (string Key, string Value)[] settings)
    {
        var services = new ServiceCollection();
        if (fakeClock)
        {
            services.AddSingleton<TimeProvider>(_time);
        }

        Rig.AddNeutral(services, Rig.Configuration(settings));
        ServiceProvider provider = services.BuildServiceProvider();
        _services.Add(provider);
        return provider.GetRequiredService<Cloud>();
    }

    /// <summary>
    /// Moves the fake clock on by <paramref name="step"/> at a time until <paramref name="done"/>, but at the pace of real
    /// time while <paramref name="realTime"/> holds: the platform is then doing work in real time (a cold start, a
    /// poll, a call) that the client waits for, and a clock that outruns it makes attempts overdue that are not.
    /// </summary>
    private async Task DriveAsync(Func<bool> done, TimeSpan step, TimeSpan limit, Func<bool>? realTime = null)
    {
        DateTimeOffset until = _time.GetUtcNow() + limit;
        var real = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(_time.GetUtcNow() < until, $"not done within {limit.TotalSeconds} s of fake time");
            Assert.True(real.Elapsed < TimeSpan.FromMinutes(3), "not done within three real minutes");
            if (realTime?.Invoke() == true)
            {
                long before = Stopwatch.GetTimestamp();
                await Task.Delay(10);
                _time.Advance(Stopwatch.GetElapsedTime(before));
            }
            else
            {
                _time.Advance(step);
                await Task.Delay(5);
            }
        }
    }

    private static Task WaitForAsync(Func<bool> condition, string what) => FakeClockDriver.WaitForAsync(condition, what);

    private async Task<List<string>> JobObjectsAsync(string jobId)
    {
        var keys = new List<string>();
        await foreach (ObjectInfo item in Rig.Store.ListAsync(Cloud.InternalPrefix))
        {
            if (item.Key.Contains(jobId, StringComparison.Ordinal))
            {
                keys.Add(item.Key);
            }
        }

        return keys;
    }

    private static async Task<T[]> ResultsAsync<T>(RemoteJob<T> job)
    {
        try
        {
            return await job.GetResultsAsync();
        }
        catch (RemoteJobException e)
        {
            // Where it broke, not only what: a client-side fault's stack trace travels in the failure.
            Assert.Fail(string.Join("\n\n", e.Failures.Take(3).Select(f => $"{f.RemoteTypeName}: {f.Message}\n{f.RemoteStackTrace}")));
            throw;
        }
    }

    /// <summary>Starts a one-call job of <see cref="ContractFunctions.HangOnFirstAttempt"/>, waits for its worker to run it, and kills that worker.</summary>
    private async Task<RemoteJob<int>> KillFirstAttemptAsync(Cloud cloud)
    {
        RemoteJob<int> job = cloud.Submit([Remote.ContractFunctions.HangOnFirstAttempt(7)]);
        // Small steps, stopping as soon as the client sees the attempt started: its 60 s deadline counts from then.
        await DriveAsync(() => job[0].State == RemoteCallState.Running, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(60), realTime: () => true);
        await WaitForAsync(() => Rig.Running == 1, "the invocation to run");
        Assert.Equal(1, Rig.KillRunning());
        await Rig.AfterKillAsync();
        return job;
    }

    [Fact]
    public async Task A_worker_killed_in_the_middle_of_a_call_is_retried_as_a_new_attempt_and_the_call_succeeds()
    {
        await StartAsync();
        Cloud cloud = Connect(fakeClock: true);
        RemoteJob<int> job = await KillFirstAttemptAsync(cloud);

        // Fast to the attempt's deadline; at real pace once the retry went out (its worker may start cold).
        Task<int[]> results = job.GetResultsAsync();
        await DriveAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5), realTime: () => Rig.Invocations >= 2);
        Assert.Equal(new[] { 7 }, await results);
        Assert.Equal(2, job[0].Stats.Attempt);
        // The killed attempt ran once, the retry once: no delivery of either ran again.
        Assert.Equal(2, Rig.Invocations);
        Rig.AssertKilledInvocationSettled();
    }

    [Fact]
    public async Task A_call_whose_worker_died_fails_out_of_retries_saying_why_and_where_the_log_is()
    {
        await StartAsync();
        Cloud cloud = Connect(fakeClock: true, ("Neutral:Job:Retries", "0"));
        RemoteJob<int> job = await KillFirstAttemptAsync(cloud);

        Task<int[]> results = job.GetResultsAsync();
        await DriveAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => results);
        RemoteException failure = Assert.Single(error.Failures);
        var (type, fragments) = Rig.LostAttemptFailure(job.JobId);
        Assert.Equal(type, failure.RemoteTypeName);
        Assert.All(fragments, f => Assert.Contains(f, failure.Message, StringComparison.Ordinal));
        Assert.Equal(1, Rig.Invocations);
    }

    [SkippableFact]
    public async Task A_burst_throttled_most_of_the_time_loses_no_call_and_spends_no_attempt()
    {
        await StartAsync();
        Skip.If(Rig.NoThrottling is not null, $"{Rig.Platform}: {Rig.NoThrottling}");
        // 300 calls at up to 64 in flight against a platform that takes 3 at a time. Speculation off: on a loaded
        // machine a call near the end can run past three times the median and get a backup attempt, which is
        // speculation's doing, not throttling's (seen once in a CI run of 2026-12-06: 2 of 300 calls with 2 attempts).
        Rig.LimitConcurrency(3);
        Cloud cloud = Connect(fakeClock: false, ("Neutral:Job:KeepData", "true"), ("Neutral:Job:Speculation", "false"));
        const int Calls = 300;
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(Enumerable.Range(0, Calls).Select(i => (long)i * i), await ResultsAsync(job));

        // That the burst was one: the count varies from run to run with the client's backoff.
        Assert.True(Rig.Throttled >= Calls / 2, $"only {Rig.Throttled} invokes were throttled: the test did not test a burst");
        Assert.Equal(Calls, Rig.Invocations);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
        Assert.Equal(Calls, (await JobObjectsAsync(job.JobId)).Count(k => k.EndsWith("/status", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_straggler_is_overtaken_by_a_speculative_backup_long_before_its_timeout()
    {
        await StartAsync();
        Cloud cloud = Connect(fakeClock: true);
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.ContractFunctions.StragglerAtZero(i)));
        Task<int[]> results = job.GetResultsAsync();
        // Its timeout is 600 s: only a backup ends the job within 300 s. The other 19, and the backup, run in real time.
        await DriveAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(300),
            realTime: () => job.Futures.Count(f => f.State == RemoteCallState.Succeeded) < 19 || Rig.Invocations > 20);

        int[] attempts = await results;
        Assert.Equal(2, attempts[0]);
        Assert.All(attempts.Skip(1), a => Assert.Equal(1, a));
        Assert.Equal(21, Rig.Invocations);
    }

    [Fact]
    public async Task No_backup_goes_out_when_speculation_is_off()
    {
        await StartAsync();
        Cloud cloud = Connect(fakeClock: true, ("Neutral:Job:Speculation", "false"));
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.ContractFunctions.StragglerAtZero(i)));
        await DriveAsync(() => job.Futures.Count(f => f.State == RemoteCallState.Succeeded) == 19, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(300), realTime: () => true);
        // Well past the point where a backup would have gone out (3 × the median, at least 0.2 s, once 90 % are done),
        // well short of the straggler's 600 s timeout.
        for (int i = 0; i < 100; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5);
        }

        Assert.Equal(RemoteCallState.Running, job[0].State);
        Assert.Equal(20, Rig.Invocations);
        await job.CancelAsync();
    }

    [SkippableFact]
    public async Task A_cancelled_job_ends_at_once_and_its_held_deliveries_run_later_find_it_gone_and_write_nothing()
    {
        await StartAsync();
        Skip.If(Rig.NoHold is not null, $"{Rig.Platform}: {Rig.NoHold}");
        Cloud cloud = Connect(fakeClock: false);
        // The platform runs two deliveries and holds the rest, as a busy one would, until the cancel.
        Rig.HoldAfter(2);
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 40).Select(i => Remote.ContractFunctions.Slow(i)));
        await WaitForAsync(() => Rig.Completed == 2, "two calls to finish");

        await job.CancelAsync();
        Assert.All(job.Futures, f => Assert.True(f.State is RemoteCallState.Succeeded or RemoteCallState.Cancelled, $"call {f.CallIndex}: {f.State}"));
        Assert.True(job.Futures.Count(f => f.State == RemoteCallState.Cancelled) >= 38,
            string.Join(", ", job.Futures.GroupBy(f => f.State).Select(g => $"{g.Key}: {g.Count()}")));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.GetResultsAsync());

        // The client deletes the job's folder in the background; once it is gone, the platform runs what it holds.
        await WaitForJobGoneAsync(job.JobId);
        Rig.Release();
        await WaitForAsync(() => Rig.Completed >= 40 && Rig.Running == 0, "the held deliveries to run");
        // No platform recalls what it accepted: they ran, found the job gone, and wrote nothing.
        Assert.Empty(await JobObjectsAsync(job.JobId));
    }

    private async Task WaitForJobGoneAsync(string jobId)
    {
        using var real = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while ((await JobObjectsAsync(jobId)).Count > 0)
        {
            await Task.Delay(20, real.Token);
        }
    }

    [Fact]
    public async Task A_stale_deployment_fails_the_job_before_any_invocation_and_a_redeployed_one_is_read_again()
    {
        await StartAsync();
        var square = Remote.ContractFunctions.Square(1).Function;
        Dictionary<string, string> stale = ComputeRig.Tables();
        stale[square.Id] = InvocationEnvelope.FormatHash(square.SignatureHash ^ 1);
        await Rig.DeployTablesAsync(stale);
        Cloud cloud = Connect(fakeClock: false);

        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(3, error.Failures.Count);
        Assert.All(error.Failures, f =>
        {
            Assert.Equal(typeof(StaleWorkerException).FullName, f.RemoteTypeName);
            Assert.Contains("could not start", f.Message, StringComparison.Ordinal);
            Assert.Contains(square.Id, f.Message, StringComparison.Ordinal);
        });

        // A function the deployment has in the same version still runs.
        Assert.Equal(new[] { 0, 1 }, await cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.ContractFunctions.FailAtThree(i)));

        // One it does not have at all.
        Dictionary<string, string> missing = ComputeRig.Tables();
        missing.Remove(square.Id);
        await Rig.DeployTablesAsync(missing);
        error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 1), i => Remote.ContractFunctions.Square(i)));
        Assert.Contains("has no function", error.Failures[0].Message, StringComparison.Ordinal);
        Assert.Equal(2, Rig.Invocations);

        // Redeployed: the mismatch makes the client read the deployment again, and the job runs.
        await Rig.DeployTablesAsync(ComputeRig.Tables());
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(5, Rig.Invocations);
    }

    [Fact]
    public async Task A_worker_not_deployed_by_Neutral_is_refused_before_any_invocation()
    {
        await StartAsync();
        await Rig.DeployTablesAsync(null);
        Cloud cloud = Connect(fakeClock: false);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(2, error.Failures.Count);
        Assert.All(error.Failures, f => Assert.Contains(Rig.MissingDeploymentMessage, f.Message, StringComparison.Ordinal));
        Assert.Equal(0, Rig.Invocations);
    }

    [Fact]
    public async Task A_job_survives_the_store_restarting_in_the_middle_with_one_status_per_call()
    {
        await StartAsync(new RigOptions(Workers: 4, RestartableStore: true));
        Cloud cloud = Connect(fakeClock: false, ("Neutral:Job:KeepData", "true"), ("Neutral:Job:Retries", "5"), ("Neutral:Job:StartTimeoutSeconds", "20"));
        // The last three calls wait for the gate, which opens once the store has restarted: the restart is in the middle
        // of the job however fast the others run and however the client's polls are spaced. Three, fewer than the four
        // workers: whatever order a platform takes the calls in, one worker is always free for the others.
        const int Calls = 200;
        string gate = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "neutral-gate-" + Guid.NewGuid().ToString("N"));
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.ContractFunctions.GatedCube(i, i >= Calls - 3 ? gate : null)));
        await WaitForAsync(() => job.Futures.Count(f => f.State == RemoteCallState.Succeeded) >= 20, "20 calls to succeed");

        int doneBefore = job.Futures.Count(f => f.State == RemoteCallState.Succeeded);
        await Rig.RestartStoreAsync();
        await System.IO.File.WriteAllTextAsync(gate, "open");

        long[] cubes;
        try
        {
            cubes = await ResultsAsync(job).WaitAsync(TimeSpan.FromMinutes(5));
        }
        finally
        {
            System.IO.File.Delete(gate);
        }

        Assert.Equal(Enumerable.Range(0, Calls).Select(i => (long)i * i * i), cubes);
        Assert.True(doneBefore < Calls, "the job ended before the restart: the test did not test a restart");

        // One status per call, however many attempts ran.
        List<string> statuses = (await JobObjectsAsync(job.JobId)).Where(k => k.EndsWith("/status", StringComparison.Ordinal)).ToList();
        Assert.Equal(Calls, statuses.Count);
        Assert.Equal(Calls, statuses.Distinct().Count());
    }

    [Fact]
    public async Task An_event_that_is_not_an_invocation_is_recorded_as_failed_and_the_worker_serves_on()
    {
        await StartAsync();
        Assert.Equal(Rig.MalformedOutcome, await Rig.SendMalformedAsync());

        Cloud cloud = Connect(fakeClock: false, ("Neutral:Job:Speculation", "false"));
        int before = Rig.Invocations;
        Assert.Equal(new long[] { 49 }, await cloud.MapAsync(new[] { 7 }, i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(before + 1, Rig.Invocations);
    }

    [SkippableFact]
    public async Task A_worker_that_cannot_load_the_application_reports_an_init_error()
    {
        await StartAsync(new RigOptions(BrokenWorker: true));
        Skip.If(Rig.NoInitError is not null, $"{Rig.Platform}: {Rig.NoInitError}");
        Cloud cloud = Connect(fakeClock: false, ("Neutral:Job:Retries", "0"));
        RemoteJob<long> job = cloud.Submit([Remote.ContractFunctions.Square(2)]);
        await WaitForAsync(() => Rig.InitError is not null, "the platform to record the init error");
        Assert.Contains(Rig.ExpectedInitError, Rig.InitError, StringComparison.Ordinal);
        Assert.NotEqual(RemoteCallState.Succeeded, job[0].State);
        await job.CancelAsync();
    }

    [Fact]
    public async Task User_failures_surface_as_remote_exceptions_and_the_platform_sees_every_invocation_succeed()
    {
        await StartAsync();
        Cloud cloud = Connect(fakeClock: false, ("Neutral:Job:Speculation", "false"));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.ContractFunctions.FailAtThree(i)));
        RemoteException failure = Assert.Single(error.Failures);
        Assert.Equal("three", failure.Message);
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.RemoteTypeName);
        Assert.Equal(3, failure.CallIndex);
        // A user's exception is a call's outcome, written to storage: not a platform fault, not retried.
        Assert.Equal(5, Rig.Invocations);
        await WaitForAsync(() => Rig.Completed == 5, "every invocation to end");
        Assert.Equal(0, Rig.FailedInvocations);
    }

    [Fact]
    public async Task A_map_makes_exactly_one_invocation_per_call()
    {
        await StartAsync();
        Cloud cloud = Connect(fakeClock: false, ("Neutral:Job:Speculation", "false"));
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, 30).Select(i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i * i), await ResultsAsync(job));
        Assert.Equal(30, Rig.Invocations);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.Attempt));
        await WaitForAsync(() => Rig.Completed == 30, "every invocation to end");
        Assert.Equal(0, Rig.FailedInvocations);
    }
}
