using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Neutral.Dispatch;
using Neutral.Emulators;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Providers.OpenWhisk.Tests;

public static class ActionFaultFunctions
{
    /// <summary>Hangs in its first attempt (until the action is killed or times out); returns <paramref name="x"/> in a later one.</summary>
    /// <remarks>
    /// The timeout is the process's own, in real time, from the moment it starts the call: it must stay well beyond the
    /// moment the test kills the process, however loaded the machine (at 5 s, a CI run saw Lambda's twin of this call
    /// time out first). The client's deadline for the attempt runs on the test's fake clock.
    /// </remarks>
    [Remote(TimeoutSeconds = 60)]
    public static async Task<int> HangOnFirstAttempt(int x, RemoteContext context)
    {
        if (context.Attempt == 1)
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        return x;
    }

    /// <summary>Takes a moment, so that a job of these is still running when it is cancelled.</summary>
    [Remote]
    public static async Task<int> Slow(int x, RemoteContext context)
    {
        await Task.Delay(200, context.CancellationToken);
        return x;
    }
}

/// <summary>
/// What goes wrong on a cluster: a stale or missing deployment (found before a job starts), an action killed in the
/// middle of an activation or stopped at its time limit (retried, and explained by the activation record). The
/// client's clock is fake; the emulator's processes run in real time.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class OpenWhiskFaultTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";
    private readonly TempFolder _action = new("neutral-action");
    private readonly TempFolder _invoker = new("neutral-invoker");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private OpenWhiskController _controller = null!;
    private ServiceProvider? _services;

    public Task InitializeAsync()
    {
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), TestAction.Environment(), _invoker.Path, Key, containers: 2) { Tables = TestAction.Tables() };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await FakeClockDriver.DisposeAsync(_services, _time);

        await _controller.DisposeAsync();
        _action.Dispose();
        _invoker.Dispose();
    }

    /// <summary>A cloud on the emulator with the fake clock (the DI way, which takes the container's clock).</summary>
    private Cloud Connect(params (string Key, string Value)[] extra)
    {
        _services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddNeutral(bucket.Configuration([
                ("Neutral:Compute", "openwhisk"),
                ("Neutral:OpenWhisk:ApiHost", _controller.ApiHost.ToString()),
                ("Neutral:OpenWhisk:AuthKey", Key),
                .. extra]))
            .AddOpenWhisk()
            .Services.BuildServiceProvider();
        return _services.GetRequiredService<Cloud>();
    }

    private Task DriveUntilAsync(Func<bool> done, TimeSpan step, TimeSpan limit) => FakeClockDriver.UntilAsync(_time, done, step, limit);

    private static Task WaitForAsync(Func<bool> condition, string what) => FakeClockDriver.WaitForAsync(condition, what);

    /// <summary>Starts a one-call job of <see cref="ActionFaultFunctions.HangOnFirstAttempt"/> and drives it until its first attempt runs.</summary>
    private async Task<RemoteJob<int>> StartHangingCallAsync(Cloud cloud)
    {
        RemoteJob<int> job = cloud.Submit([Remote.ActionFaultFunctions.HangOnFirstAttempt(7)]);
        // Small steps, stopping as soon as the client sees the attempt started: its 60 s deadline counts from then (the
        // bound on an attempt that never starts is 120 s, room for a slow cold start).
        await DriveUntilAsync(() => job[0].State == RemoteCallState.Running, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(60));
        return job;
    }

    [Fact]
    public async Task An_action_killed_in_the_middle_of_an_activation_is_retried_and_the_call_succeeds()
    {
        Cloud cloud = Connect();
        RemoteJob<int> job = await StartHangingCallAsync(cloud);

        await WaitForAsync(() => _controller.Running == 1, "the activation to run");
        Assert.Equal(1, _controller.KillRunning());
        await WaitForAsync(() => _controller.Completed == 1, "the activation record");
        Task<int[]> results = job.GetResultsAsync();
        await DriveUntilAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));

        Assert.Equal(new[] { 7 }, await results);
        Assert.Equal(2, job[0].Stats.Attempt);
        Assert.Equal(2, _controller.Invocations);
        // The proxy never restarts a dead exec: the invoker destroyed that container.
        Assert.Equal(1, _controller.Destroyed);
    }

    [Fact]
    public async Task An_exec_that_died_while_idle_costs_its_container_one_activation_and_the_call_is_retried_in_a_fresh_one()
    {
        // One container, so that the next activation surely meets the dead exec.
        await _controller.DisposeAsync();
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), TestAction.Environment(), _invoker.Path, Key, containers: 1) { Tables = TestAction.Tables() };
        Cloud cloud = Connect();
        Task<long[]> warm = cloud.MapAsync([2], i => Remote.MinioFunctions.Square(i));
        await DriveUntilAsync(() => warm.IsCompleted, TimeSpan.FromMilliseconds(20), TimeSpan.FromMinutes(1));
        Assert.Equal(new long[] { 4 }, await warm);
        Assert.Equal(1, await _controller.KillIdleAsync());

        RemoteJob<long> job = cloud.Submit([Remote.MinioFunctions.Square(3)]);
        await WaitForAsync(() => _controller.Completed == 2, "the activation that meets the dead exec");
        Assert.Contains(_controller.Records, r => r.Contains("\"action developer error\"", StringComparison.Ordinal) && r.Contains("command exited", StringComparison.Ordinal));
        Assert.Equal(1, _controller.Destroyed);

        // The call never started: the client retries it once the bound on a start passes (fake time), in a fresh container.
        Task<long[]> results = job.GetResultsAsync();
        await DriveUntilAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));
        Assert.Equal(new long[] { 9 }, await results);
        Assert.Equal(2, job[0].Stats.Attempt);
        Assert.Equal(2, _controller.ColdStarts);
    }

    [Fact]
    public async Task A_call_whose_action_died_fails_with_what_the_activation_record_says()
    {
        Cloud cloud = Connect(("Neutral:Job:Retries", "0"));
        RemoteJob<int> job = await StartHangingCallAsync(cloud);

        await WaitForAsync(() => _controller.Running == 1, "the activation to run");
        Assert.Equal(1, _controller.KillRunning());
        await WaitForAsync(() => _controller.Completed == 1, "the activation record");
        Task<int[]> results = job.GetResultsAsync();
        await DriveUntilAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));

        var error = await Assert.ThrowsAsync<RemoteJobException>(() => results);
        RemoteException failure = Assert.Single(error.Failures);
        Assert.Equal(typeof(TimeoutException).FullName, failure.RemoteTypeName);
        Assert.Contains("no status by the attempt's deadline (60 s)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("OpenWhisk activation", failure.Message, StringComparison.Ordinal);
        // The action proxy outlives its exec and answers the activation itself (400), so the record holds its text.
        Assert.Contains("action developer error: command exited (the action's exec exited during or before this activation", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_stopped_at_the_action_time_limit_fails_naming_the_limit()
    {
        _controller.TimeLimit = TimeSpan.FromSeconds(1);
        Cloud cloud = Connect(("Neutral:Job:Retries", "0"));
        // Not waiting for the client to see the attempt start: under load the limit can pass before it lists the
        // marker (or before the worker writes it); either way the record says why, and the fault message carries it.
        RemoteJob<int> job = cloud.Submit([Remote.ActionFaultFunctions.HangOnFirstAttempt(7)]);

        // The emulator stops the activation at its limit, in real time, and records why.
        await WaitForAsync(() => _controller.Completed == 1, "the activation to reach its time limit");
        Task<int[]> results = job.GetResultsAsync();
        await DriveUntilAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));

        var error = await Assert.ThrowsAsync<RemoteJobException>(() => results);
        Assert.Contains("The action exceeded its time limits of 1000 milliseconds.", Assert.Single(error.Failures).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_job_ends_at_once_and_its_late_activations_leave_nothing_in_the_bucket()
    {
        await using Cloud cloud = Cloud.Connect(bucket.Configuration(
            ("Neutral:Compute", "openwhisk"), ("Neutral:OpenWhisk:ApiHost", _controller.ApiHost.ToString()), ("Neutral:OpenWhisk:AuthKey", Key)));
        // The cluster runs two activations and holds the rest in its queue, as a busy one would, until the cancel.
        _controller.HoldAfter(2);
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 40).Select(i => Remote.ActionFaultFunctions.Slow(i)));
        await WaitForAsync(() => _controller.Invocations == 40 && _controller.Completed == 2, "every call queued and two finished");

        await job.CancelAsync();
        Assert.All(job.Futures, f => Assert.True(f.State is RemoteCallState.Succeeded or RemoteCallState.Cancelled, $"call {f.CallIndex}: {f.State}"));
        Assert.True(job.Futures.Count(f => f.State == RemoteCallState.Cancelled) >= 38,
            string.Join(", ", job.Futures.GroupBy(f => f.State).Select(g => $"{g.Key}: {g.Count()}")));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.GetResultsAsync());

        // The client deletes the job's folder in the background; once it is gone, the cluster runs what it holds.
        using (var real = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while ((await JobObjectsAsync(job.JobId)).Count > 0)
            {
                await Task.Delay(20, real.Token);
            }
        }

        // OpenWhisk cannot recall activations it accepted: they run, find the job gone, and write nothing.
        _controller.Release();
        await WaitForAsync(() => _controller.Completed == 40 && _controller.Running == 0, "the accepted activations to end");
        Assert.Empty(await JobObjectsAsync(job.JobId));
        await cloud.DisposeAsync();
        Assert.Empty(await JobObjectsAsync(job.JobId));
    }

    private async Task<List<string>> JobObjectsAsync(string jobId)
    {
        var keys = new List<string>();
        await foreach (ObjectInfo item in bucket.Store.ListAsync(Cloud.InternalPrefix))
        {
            if (item.Key.Contains(jobId, StringComparison.Ordinal))
            {
                keys.Add(item.Key);
            }
        }

        return keys;
    }

    [Fact]
    public async Task A_stale_action_fails_the_job_before_any_call_is_invoked_and_a_redeployed_one_is_read_again()
    {
        var square = Remote.MinioFunctions.Square(1).Function;
        var stale = TestAction.Tables();
        stale[square.Id] = InvocationEnvelope.FormatHash(square.SignatureHash ^ 1);
        _controller.Tables = stale;
        await using Cloud cloud = Cloud.Connect(bucket.Configuration(
            ("Neutral:Compute", "openwhisk"), ("Neutral:OpenWhisk:ApiHost", _controller.ApiHost.ToString()), ("Neutral:OpenWhisk:AuthKey", Key)));

        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.MinioFunctions.Square(i)));
        Assert.Equal(3, error.Failures.Count);
        Assert.All(error.Failures, f =>
        {
            Assert.Equal(typeof(StaleWorkerException).FullName, f.RemoteTypeName);
            Assert.Contains("could not start", f.Message, StringComparison.Ordinal);
            Assert.Contains(square.Id, f.Message, StringComparison.Ordinal);
            Assert.Contains("Redeploy the worker", f.Message, StringComparison.Ordinal);
        });
        Assert.Equal(0, _controller.Invocations);

        // A function the action does not have at all.
        var missing = TestAction.Tables();
        missing.Remove(square.Id);
        _controller.Tables = missing;
        error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 1), i => Remote.MinioFunctions.Square(i)));
        Assert.Contains("has no function", error.Failures[0].Message, StringComparison.Ordinal);

        // Redeployed: the mismatch makes the client read the action again, and the job runs.
        _controller.Tables = TestAction.Tables();
        int reads = _controller.ActionReads;
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.MinioFunctions.Square(i)));
        Assert.Equal(reads + 1, _controller.ActionReads);

        // What was read is kept: the next job reads nothing.
        Assert.Equal(new long[] { 9 }, await cloud.MapAsync(Enumerable.Range(3, 1), i => Remote.MinioFunctions.Square(i)));
        Assert.Equal(reads + 1, _controller.ActionReads);
    }

    [Fact]
    public async Task An_action_not_deployed_by_neutral_is_refused_before_the_job_starts()
    {
        _controller.Tables = null;
        await using Cloud cloud = Cloud.Connect(bucket.Configuration(
            ("Neutral:Compute", "openwhisk"), ("Neutral:OpenWhisk:ApiHost", _controller.ApiHost.ToString()), ("Neutral:OpenWhisk:AuthKey", Key)));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.MinioFunctions.Square(i)));
        Assert.All(error.Failures, f => Assert.Contains("no 'neutral-tables' annotation", f.Message, StringComparison.Ordinal));
        Assert.Equal(0, _controller.Invocations);
    }
}
