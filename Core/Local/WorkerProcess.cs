using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;
using Neutral.Workers;
using Neutral.Workers.Local;

namespace Neutral.Local;

/// <summary>One warm worker process of the local provider: runs one call at a time, like a Lambda container.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private const int StderrLimit = 16 * 1024;
    private readonly Process _process;
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly StringBuilder _stderr = new();
    private readonly Lock _writeLock = new();
    private readonly Timer _watchdog;
    private TaskCompletionSource<Reply>? _pending;
    private Thread? _reader;
    private volatile bool _killedAtDeadline;

    private WorkerProcess(Process process)
    {
        _process = process;
        _input = process.StandardInput.BaseStream;
        _output = process.StandardOutput.BaseStream;
        // One timer per worker, re-armed per call, kills the process when a call runs past its deadline.
        _watchdog = new Timer(static state => ((WorkerProcess)state!).OnDeadline(), this, Timeout.Infinite, Timeout.Infinite);
    }

    private void OnDeadline()
    {
        if (Volatile.Read(ref _pending) is { Task.IsCompleted: false })
        {
            _killedAtDeadline = true;
            Kill();
        }
    }

    public int Id => _process.Id;

    public string? CurrentJob { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts a worker and waits for its ready frame.</summary>
    public static async Task<WorkerProcess> StartAsync(WorkerLaunch launch, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (string argument in launch.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in launch.Environment)
        {
            info.Environment[name] = value;
        }

        // Remote functions are mostly hot loops: compile methods with loops optimized at once rather than through
        // tier 0 and on-stack replacement (measured: the MonteCarlo workers spend about a fifth less time).
        if (Environment.GetEnvironmentVariable("DOTNET_TC_QuickJitForLoops") is null)
        {
            info.Environment["DOTNET_TC_QuickJitForLoops"] = "0";
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start the worker '{launch.FileName}'.");
        var worker = new WorkerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            launch.ForwardTo?.WriteLine(e.Data);

            lock (worker._stderr)
            {
                if (worker._stderr.Length < StderrLimit)
                {
                    worker._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            var frame = await LocalFrames.ReadAsync(worker._output, timer.Token).ConfigureAwait(false);
            if (frame is not { Type: LocalFrameType.Ready })
            {
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException($"The worker process exited before it was ready (exit code {(process.HasExited ? process.ExitCode : -1)}). {worker.Stderr}");
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidDataException or IOException or TimeoutException)
        {
            worker.Kill();
            throw new InvalidOperationException($"The worker process did not start within {timeout.TotalSeconds:0} s: {e.Message}. {worker.Stderr}", e);
        }
        catch
        {
            worker.Kill();
            throw;
        }

        worker._reader = new Thread(worker.ReadLoop) { IsBackground = true, Name = $"Neutral worker {process.Id} reader" };
        worker._reader.Start();
        return worker;
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.Length == 0 ? string.Empty : "Worker stderr: " + _stderr.ToString().Trim();
            }
        }
    }

    private void ReadLoop()
    {
        try
        {
            while (LocalFrames.Read(_output) is { } frame)
            {
                if (frame.Type == LocalFrameType.Done)
                {
                    Volatile.Read(ref _pending)?.TrySetResult(new Reply(LocalDone.Decode(frame.Payload), null));
                }
                else if (frame.Type == LocalFrameType.Lost)
                {
                    // The worker lives, but storage failed even for the status: the attempt is lost.
                    var lost = LocalLost.Decode(frame.Payload);
                    Volatile.Read(ref _pending)?.TrySetResult(new Reply(null, $"the worker process (pid {Id}) could not finish attempt {lost.Attempt}: {lost.Reason}"));
                }
            }
        }
        catch (Exception)
        {
            // The pipe broke: the process died; the pending call is lost.
        }

        Volatile.Read(ref _pending)?.TrySetResult(new Reply(null, null));
    }

    /// <summary>What the worker answered: an outcome, a lost attempt (with why), or nothing (it died).</summary>
    private readonly record struct Reply(CallOutcome? Outcome, string? Lost);

    /// <summary>
    /// Runs one call. Returns the worker's outcome, or null with a reason when the process died or was killed at the
    /// deadline.
    /// </summary>
    public async Task<(CallOutcome? Outcome, string? LostReason)> RunAsync(InvocationEnvelope envelope, CancellationToken cancellationToken)
    {
        var pending = new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _pending, pending);
        CurrentJob = envelope.JobId;
        try
        {
            if (_process.HasExited)
            {
                return (null, $"the worker process had exited (code {_process.ExitCode}). {Stderr}");
            }

            _killedAtDeadline = false;
            if (envelope.Deadline is { } deadline)
            {
                TimeSpan limit = deadline - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500);
                _watchdog.Change(limit > TimeSpan.Zero ? limit : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }

            Send(LocalFrameType.Invoke, LocalEnvelope.Encode(envelope));
            // No per-call cancellation registration: stopping the pool kills the process, which ends the wait.
            (CallOutcome? outcome, string? lost) = await pending.Task.ConfigureAwait(false);
            _watchdog.Change(Timeout.Infinite, Timeout.Infinite);
            if (lost is not null)
            {
                return (null, lost);
            }
            if (outcome is null && _killedAtDeadline)
            {
                return (null, $"the call ran past its deadline and its worker process (pid {Id}) was killed");
            }

            if (outcome is null)
            {
                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
                string code = _process.HasExited ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
                return (null, $"the worker process (pid {Id}) died during the call (exit code {code}). {Stderr}".Trim());
            }

            return (outcome, null);
        }
        catch (IOException e)
        {
            return (null, $"the pipe to the worker process (pid {Id}) broke: {e.Message}. {Stderr}".Trim());
        }
        finally
        {
            CurrentJob = null;
            Volatile.Write(ref _pending, null);
        }
    }

    public Task CancelAsync(string jobId)
    {
        try
        {
            Send(LocalFrameType.Cancel, Encoding.UTF8.GetBytes(jobId));
        }
        catch (IOException)
        {
            // Already gone.
        }

        return Task.CompletedTask;
    }

    private void Send(LocalFrameType type, ReadOnlySpan<byte> payload)
    {
        lock (_writeLock)
        {
            LocalFrames.Write(_input, type, payload);
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                Send(LocalFrameType.Shutdown, ReadOnlySpan<byte>.Empty);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            // Killed below.
        }

        Kill();
        _reader?.Join(TimeSpan.FromSeconds(2));
        await _watchdog.DisposeAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}
