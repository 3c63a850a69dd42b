using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Testing;

namespace Neutral.Tests;

public static class ChattyFunctions
{
    [Remote]
    public static int Say(int n, RemoteContext context)
    {
        Console.WriteLine($"out {n}");
        Console.Error.Write($"err {n} part");
        Console.Error.WriteLine(" two");
        context.Log.WriteLine($"log {n}");
        Console.Write($"unfinished {n}");
        return n;
    }
}

/// <summary>A call's console output reaches the client's standard error as it is written, prefixed with the call index.</summary>
public sealed class ForwardOutputTests
{
    /// <summary>A thread-safe writer standing in for the client's standard error.</summary>
    private sealed class Sink : StringWriter
    {
        private readonly object _gate = new();

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
            }
        }

        public string[] Lines()
        {
            lock (_gate)
            {
                return ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }
    }

    [Fact]
    public async Task Worker_output_is_forwarded_line_by_line_with_the_call_index_and_still_kept_in_the_log()
    {
        var sink = new Sink();
        await using var local = new LocalCloud(workers: 2, configure: o => o.Local.ForwardTo = sink);
        RemoteJob<int> job = local.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.ChattyFunctions.Say(i)));
        int[] results = await job.GetResultsAsync();
        Assert.Equal([0, 1, 2, 3], results);

        // Forwarding is asynchronous (the worker's standard error is its own pipe, read as it arrives): a result may
        // come back before the last lines its call wrote have been copied.
        await FakeClockDriver.WaitForAsync(() => sink.Lines().Count(l => l.Contains(" unfinished ", StringComparison.Ordinal)) == 4, "every call's last line to be forwarded");
        string[] lines = sink.Lines();
        for (int i = 0; i < 4; i++)
        {
            Assert.Contains($"(call {i}) out {i}", lines);
            Assert.Contains($"(call {i}) err {i} part two", lines);
            Assert.Contains($"(call {i}) log {i}", lines);
            // A last line without a newline is forwarded when the call ends.
            Assert.Contains($"(call {i}) unfinished {i}", lines);
            Assert.Contains($"out {i}", job[i].Stats.Log, StringComparison.Ordinal);
            Assert.Contains($"err {i} part two", job[i].Stats.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Forwarding_can_be_turned_off_and_the_log_still_holds_the_output()
    {
        var sink = new Sink();
        await using var local = new LocalCloud(workers: 1, configure: o =>
        {
            o.Local.ForwardTo = sink;
            o.Local.ForwardOutput = false;
        });
        RemoteJob<int> job = local.Cloud.Submit([Remote.ChattyFunctions.Say(7)]);
        int[] results = await job.GetResultsAsync();
        Assert.Equal([7], results);
        Assert.Empty(sink.Lines());
        Assert.Contains("out 7", job[0].Stats.Log, StringComparison.Ordinal);
    }
}

/// <summary>What progress reports about running calls, as a progress bar shows it.</summary>
public sealed class RunningCountTests
{
    [Fact]
    public async Task Progress_never_reports_more_calls_running_than_there_are_workers()
    {
        // The first two calls hold both workers until the test has seen progress report them running (no timing
        // involved); then 58 short calls go through the two workers, each one's start listed as the previous one ends.
        await using var local = new LocalCloud(workers: 2);
        string go = $"go/{Guid.NewGuid():N}";
        var calls = new RemoteCall<int>[60];
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i] = i < 2 ? Remote.SimulatedFunctions.WaitForKey(go, i) : Remote.FaultFunctions.Sleep(i % 3, i);
        }

        RemoteJob<int> job = local.Cloud.Submit(calls);
        int most = 0;
        var seenRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        job.Progress += (_, p) =>
        {
            most = Math.Max(most, p.Running);
            if (p.Running > 0)
            {
                seenRunning.TrySetResult();
            }
        };

        await seenRunning.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await local.Cloud.Storage.PutAsync(go, new byte[] { 1 });
        int[] results = await job.GetResultsAsync();
        Assert.Equal(Enumerable.Range(0, 60), results);
        Assert.InRange(most, 1, 2);
    }
}
