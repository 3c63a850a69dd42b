using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Neutral.Local;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Tests;

public static class WorkerFaultFunctions
{
    /// <summary>Throws from <paramref name="depth"/> frames down with a message of <paramref name="length"/> characters.</summary>
    [Remote]
    public static int ThrowHuge(int length, int depth) => Recurse(length, depth);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Recurse(int length, int depth) =>
        depth == 0 ? throw new InvalidOperationException(new string('m', length)) : Recurse(length, depth - 1) + 1;
}

/// <summary>Faults inside a local worker process: what the client sees, and that the worker slot survives.</summary>
public sealed class WorkerFaultTests
{
    [Fact]
    public async Task A_call_sent_behind_one_whose_worker_dies_runs_later_as_its_first_attempt()
    {
        await using var local = new LocalCloud(workers: 1);
        for (int i = 0; i < 3; i++)
        {
            // Warm and short: the worker now gets its next envelope before it answers.
            await local.Cloud.CallAsync(Remote.FaultFunctions.ExitOnFirstAttempt(5));
        }

        var job = local.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.FaultFunctions.ExitOnFirstAttempt(i)));
        int[] results = await job.GetResultsAsync();
        Assert.Equal([0, 1, 2, 3], results);
        // Call 1 ended its worker; call 2, already sent behind it, never started there: it is not a failed attempt.
        Assert.Equal(2, job[1].Stats.Attempt);
        Assert.All(new[] { 0, 2, 3 }, i => Assert.Equal(1, job[i].Stats.Attempt));
    }

    [Fact]
    public async Task A_call_sent_behind_a_running_one_has_its_time_limit_start_when_it_starts()
    {
        await using var local = new LocalCloud(workers: 1);
        for (int i = 0; i < 3; i++)
        {
            // Warm and short: the worker now gets its next envelope before it answers.
            await local.Cloud.CallAsync(Remote.FaultFunctions.Sleep(0, 0));
        }

        // The last call (limit 1 s, takes 0.3 s) waits 1.5 s in the worker behind the second: the 5 ms of the first
        // let the launcher queue the other two, which are then sent one behind the other.
        var job = local.Cloud.Submit(new[] { Remote.FaultFunctions.Sleep(5, 6), Remote.FaultFunctions.Sleep(1500, 7), Remote.FaultFunctions.CooperativeShort(8) });
        int[] results = await job.GetResultsAsync();
        Assert.Equal([6, 7, 8], results);
        Assert.Equal(1, job[2].Stats.Attempt);
    }

    [Fact]
    public async Task A_two_million_character_exception_fails_its_call_with_a_truncated_message_and_the_worker_serves_on()
    {
        await using var local = new LocalCloud(workers: 1);
        var error = await Assert.ThrowsAsync<RemoteException>(() => local.Cloud.CallAsync(Remote.WorkerFaultFunctions.ThrowHuge(2_000_000, 3000)));
        Assert.Equal("System.InvalidOperationException", error.RemoteTypeName);
        Assert.StartsWith("mmmm", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("... [truncated: 1,983,616 more characters]", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Message.Length, 16 * 1024, 17 * 1024);
        Assert.InRange(error.RemoteStackTrace!.Length, 1000, 33 * 1024);
        Assert.Contains("Recurse", error.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal(1, error.Attempt);

        // The same (only) worker slot runs the next call.
        Assert.Equal(4, await local.Cloud.CallAsync(Remote.TestFunctions.Add(2, 2)));
    }

    [Fact]
    public async Task The_pool_s_first_worker_boots_alone_and_the_others_start_once_it_is_ready()
    {
        using var folder = new TempFolder("neutral-stagger");
        var store = new StoreLocation("local", folder.Path, "_neutral/");
        await using var backend = new LocalComputeBackend(new LocalOptions { Workers = 3 }, store, TimeProvider.System);
        await FakeClockDriver.WaitForAsync(() => backend.Processes.All(p => p is { ReadyAt: > 0 }), "every worker to be ready");
        var processes = backend.Processes.Select(p => p!).ToArray();
        // The second and third start after the first is up (side by side, as before, they started within a
        // millisecond of it and long before it was ready), and together.
        Assert.All(processes.Skip(1), p => Assert.True(p.LaunchedAt >= processes[0].ReadyAt, "a worker launched before the first one was ready"));
    }

    [Fact]
    public async Task A_worker_process_whose_client_closed_its_pipe_exits_in_the_middle_of_a_call()
    {
        using var folder = new TempFolder("neutral-orphan");
        var store = new StoreLocation("local", folder.Path, "_neutral/");
        WorkerLaunch launch = WorkerLaunch.Resolve(new LocalOptions(), store);
        var info = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in launch.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in launch.Environment)
        {
            info.Environment[name] = value;
        }

        using Process worker = Process.Start(info)!;
        worker.ErrorDataReceived += static (_, _) => { };
        worker.BeginErrorReadLine();
        try
        {
            Assert.Equal(LocalFrameType.Ready, (await LocalFrames.ReadAsync(worker.StandardOutput.BaseStream))!.Value.Type);

            // A call that never returns and ignores its token, with no deadline.
            RemoteCall<int> call = Remote.FaultFunctions.HangForever();
            LocalFrames.Write(worker.StandardInput.BaseStream, LocalFrameType.Invoke, LocalEnvelope.Encode(new InvocationEnvelope
            {
                JobId = "orphan",
                CallIndex = 0,
                FunctionId = call.Function.Id,
                SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
                InlineInput = call.Arguments.ToArray(),
                Attempt = 1,
                Store = store,
            }));

            string started = Path.Combine(folder.Path, "_neutral", "jobs", "orphan", "calls", "000000", "started.1");
            var waiting = Stopwatch.StartNew();
            while (!File.Exists(started))
            {
                Assert.False(worker.HasExited, "the worker exited before the call started");
                Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(60), "the call did not start within 60 s");
                await Task.Delay(20);
            }

            // The client goes away: its end of the worker's input closes.
            worker.StandardInput.Close();
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(3, worker.ExitCode);
        }
        finally
        {
            if (!worker.HasExited)
            {
                worker.Kill();
            }
        }
    }
}
