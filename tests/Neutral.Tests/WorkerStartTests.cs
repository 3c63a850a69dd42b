using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Neutral.Local;
using Neutral.Testing;

namespace Neutral.Tests;

/// <summary>
/// A local worker process that does not come up: what the pool is told, and that the process is not left behind. The
/// workers here are shell scripts standing in for an executable named by <c>Local:WorkerCommand</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WorkerStartTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-start");

    public void Dispose() => _folder.Dispose();

    private WorkerLaunch Script(string body)
    {
        string path = Path.Combine(_folder.Path, "worker-" + Guid.NewGuid().ToString("N")[..8] + ".sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new WorkerLaunch(path, [], new Dictionary<string, string>());
    }

    private string PidFile => Path.Combine(_folder.Path, "pid");

    private int ScriptPid() => int.Parse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture);

    private static bool Alive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].TrimStart().StartsWith('Z');

    [Fact]
    public async Task A_worker_that_never_sends_its_ready_frame_is_killed_at_the_start_timeout_of_the_pool_s_clock()
    {
        WorkerLaunch launch = Script($"echo $$ > {PidFile}\necho 'still loading the tables' >&2\nexec sleep 600");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var start = Task.Run(() => WorkerProcess.Start(launch, TimeSpan.FromSeconds(60), time, CancellationToken.None));
        await FakeClockDriver.WaitForAsync(() => File.Exists(PidFile) && File.ReadAllText(PidFile).EndsWith('\n'), "the script to start");
        int pid = ScriptPid();

        // Real time passes, and fake time up to just short of the limit: the start waits.
        time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(200);
        Assert.False(start.IsCompleted);
        Assert.True(Alive(pid));

        time.Advance(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => start.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("The worker process did not start within 60 s.", error.Message, StringComparison.Ordinal);
        Assert.Contains("still loading the tables", error.Message, StringComparison.Ordinal);
        await FakeClockDriver.WaitForAsync(() => !Alive(pid), "the worker process to be killed");
    }

    [Fact]
    public async Task A_worker_that_exits_before_it_is_ready_is_reported_with_its_exit_code_and_standard_error()
    {
        WorkerLaunch launch = Script("echo 'Unhandled exception: the tables could not load' >&2\nexit 7");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Task.Run(() => WorkerProcess.Start(launch, TimeSpan.FromSeconds(60), TimeProvider.System, CancellationToken.None)));
        Assert.StartsWith("The worker process exited before it was ready (exit code 7).", error.Message, StringComparison.Ordinal);
        Assert.Contains("the tables could not load", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_executable_that_does_not_speak_the_worker_protocol_is_named_in_the_error_and_killed()
    {
        WorkerLaunch launch = Script($"echo $$ > {PidFile}\necho 'Hello, World!'\nexec sleep 600");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Task.Run(() => WorkerProcess.Start(launch, TimeSpan.FromSeconds(60), TimeProvider.System, CancellationToken.None)));
        Assert.StartsWith("The worker process wrote something other than the local worker protocol on its standard output", error.Message, StringComparison.Ordinal);
        Assert.Contains($"is '{launch.FileName}' a Neutral worker?", error.Message, StringComparison.Ordinal);
        await FakeClockDriver.WaitForAsync(() => !Alive(ScriptPid()), "the process to be killed");
    }

    [Fact]
    public async Task A_start_cancelled_by_the_pool_s_shutdown_kills_the_booting_process()
    {
        WorkerLaunch launch = Script($"echo $$ > {PidFile}\nexec sleep 600");
        using var stopping = new CancellationTokenSource();
        var start = Task.Run(() => WorkerProcess.Start(launch, TimeSpan.FromSeconds(60), TimeProvider.System, stopping.Token));
        await FakeClockDriver.WaitForAsync(() => File.Exists(PidFile) && File.ReadAllText(PidFile).EndsWith('\n'), "the script to start");
        int pid = ScriptPid();

        stopping.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        await FakeClockDriver.WaitForAsync(() => !Alive(pid), "the worker process to be killed");
    }
}
