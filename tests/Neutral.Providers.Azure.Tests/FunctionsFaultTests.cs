using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Neutral.Emulators;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

public static class FunctionsFaultFunctions
{
    /// <summary>Hangs in its first attempt (until the handler is killed or the call times out); returns <paramref name="x"/> in a later one.</summary>
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
/// What goes wrong on Azure Functions, end to end on the emulated host and Azurite: a handler killed in the middle of a
/// call (its message goes to the poison queue, the client retries with a new attempt; out of retries, the failure says
/// so), and a cancelled job whose waiting queue items run later and write nothing. The client's clock is fake where
/// the test depends on time; the host and its processes run in real time.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class FunctionsFaultTests(BlobContainer container, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BlobContainer>, IAsyncLifetime
{
    private const string App = "neutral-faults";
    private readonly TempFolder _app = new("neutral-function-app");
    private readonly string _queue = "neutral-calls-" + Guid.NewGuid().ToString("N")[..12];
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private FunctionsHost _host = null!;
    private ServiceProvider? _services;

    public async Task InitializeAsync()
    {
        _host = new FunctionsHost(TestApp.Write(_app.Path), TestApp.Settings(container.ConnectionString, _queue), instances: 2);
        await TestApp.PublishRecordAsync(container.Store, App);
    }

    public async Task DisposeAsync()
    {
        // Shown with a failed test: what the host did, and when.
        output.WriteLine(_host.Journal);
        await FakeClockDriver.DisposeAsync(_services, _time);
        await _host.DisposeAsync();
        await new QueueClient(container.ConnectionString, _queue).DeleteIfExistsAsync();
        await new QueueClient(container.ConnectionString, _queue + "-poison").DeleteIfExistsAsync();
        _app.Dispose();
    }

    private (string, string)[] Settings(params (string Key, string Value)[] extra) =>
        [("Neutral:Compute", "azure"), ("Neutral:Azure:App", App), ("Neutral:Azure:Queue", _queue), .. extra];

    /// <summary>A cloud on the emulated host with the fake clock (the DI way, which takes the container's clock).</summary>
    private Cloud ConnectWithFakeClock(params (string Key, string Value)[] extra)
    {
        _services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddNeutral(container.Configuration(Settings(extra)))
            .AddAzure()
            .Services.BuildServiceProvider();
        return _services.GetRequiredService<Cloud>();
    }

    private Task DriveUntilAsync(Func<bool> done, TimeSpan step, TimeSpan limit) => FakeClockDriver.UntilAsync(_time, done, step, limit);

    private static Task WaitForAsync(Func<bool> condition, string what) => FakeClockDriver.WaitForAsync(condition, what);

    /// <summary>Starts a one-call job of <see cref="FunctionsFaultFunctions.HangOnFirstAttempt"/>, waits for its handler to run it, and kills that handler.</summary>
    private async Task<RemoteJob<int>> KillFirstAttemptAsync(Cloud cloud)
    {
        RemoteJob<int> job = cloud.Submit([Remote.FunctionsFaultFunctions.HangOnFirstAttempt(7)]);
        await DriveUntilAsync(() => job[0].State == RemoteCallState.Running, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(60));
        await WaitForAsync(() => _host.Running == 1, "the invocation to run");
        Assert.Equal(1, _host.KillRunning());
        // The host fails the delivery, and at the message's next delivery moves it to the poison queue.
        await WaitForAsync(() => _host.Poisoned == 1, "the killed invocation's message to be poisoned");
        Assert.Equal("exited", _host.Outcomes.First());
        return job;
    }

    [Fact]
    public async Task A_handler_killed_in_the_middle_of_a_call_is_not_redelivered_and_the_client_retries_with_a_new_attempt()
    {
        Cloud cloud = ConnectWithFakeClock();
        RemoteJob<int> job = await KillFirstAttemptAsync(cloud);

        Task<int[]> results = job.GetResultsAsync();
        await DriveUntilAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));
        Assert.Equal(new[] { 7 }, await results);
        Assert.Equal(2, job[0].Stats.Attempt);
        // The killed attempt ran once: its message went to the poison queue instead of running again.
        Assert.Equal(2, _host.Invocations);
        Assert.Equal(1, _host.Poisoned);
    }

    [Fact]
    public async Task A_call_whose_handler_died_fails_out_of_retries_saying_its_message_went_to_the_poison_queue()
    {
        Cloud cloud = ConnectWithFakeClock(("Neutral:Job:Retries", "0"));
        RemoteJob<int> job = await KillFirstAttemptAsync(cloud);

        Task<int[]> results = job.GetResultsAsync();
        await DriveUntilAsync(() => results.IsCompleted, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => results);
        RemoteException failure = Assert.Single(error.Failures);
        Assert.Equal(typeof(TimeoutException).FullName, failure.RemoteTypeName);
        Assert.Contains("no status by the attempt's deadline (60 s)", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"moved it to the poison queue {_queue}-poison", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"\"job {job.JobId} call 0 attempt 1\"", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_job_ends_at_once_and_its_waiting_queue_items_leave_nothing_in_the_container()
    {
        AzureProvider.Register();
        await using Cloud cloud = Cloud.Connect(container.Configuration(Settings()));
        // The host runs two invocations and leaves the rest waiting, as busy instances would, until the cancel.
        _host.HoldAfter(2);
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 40).Select(i => Remote.FunctionsFaultFunctions.Slow(i)));
        await WaitForAsync(() => _host.Outcomes.Count == 2, "two calls to finish");

        await job.CancelAsync();
        Assert.True(job.Futures.Count(f => f.State == RemoteCallState.Cancelled) >= 38,
            string.Join(", ", job.Futures.GroupBy(f => f.State).Select(g => $"{g.Key}: {g.Count()}")));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.GetResultsAsync());
        using (var real = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while ((await ObjectsAsync(job.JobId)).Count > 0)
            {
                await Task.Delay(20, real.Token);
            }
        }

        // A storage queue cannot recall messages: they run, find the job gone, and write nothing.
        _host.Release();
        await WaitForAsync(() => _host.Outcomes.Count >= 40 && _host.Running == 0, "the waiting items to run");
        Assert.Empty(await ObjectsAsync(job.JobId));
        // How the released deliveries ended is the emulator's business: under CI load some of the 38 posted at once
        // failed to connect ("exited") and were moved aside; either way none wrote anything.
    }

    private async Task<List<string>> ObjectsAsync(string jobId)
    {
        var keys = new List<string>();
        await foreach (ObjectInfo item in container.Store.ListAsync(Cloud.InternalPrefix))
        {
            if (item.Key.Contains(jobId, StringComparison.Ordinal))
            {
                keys.Add(item.Key);
            }
        }

        return keys;
    }
}
