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
    public async Task An_exec_that_died_while_idle_costs_its_container_one_activation_and_the_call_is_retried_in_a_fresh_one()
    {
        // One container, so that the next activation surely meets the dead exec.
        await _controller.DisposeAsync();
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), TestAction.Environment(), _invoker.Path, Key, containers: 1) { Tables = TestAction.Tables() };
        Cloud cloud = Connect();
        Task<long[]> warm = cloud.MapAsync([2], i => Remote.MinioFunctions.Square(i));
        await DriveUntilAsync(() => warm.IsCompleted, TimeSpan.FromMilliseconds(20), TimeSpan.FromMinutes(1));
        Assert.Equal(new long[] { 4 }, await warm);
        // The client may see the result (from its status marker, protocol version 4) before the proxy has answered the
        // activation: the container is idle once the controller has recorded it.
        await WaitForAsync(() => _controller.Completed == 1, "the warm-up activation's end");
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

}
