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

/// <summary>
/// One warm worker process of the local provider: runs one call at a time, like a Lambda container. Its slot's thread
/// drives it synchronously (send, then block on the reply), and may send the next envelope before the running call
/// answers, so that the worker never waits for the client between short calls; the worker still runs them in order.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private const int StderrLimit = 16 * 1024;
    private readonly Process _process;
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly StringBuilder _stderr = new();
    private readonly Lock _writeLock = new();
    private readonly Lock _flightLock = new();
    private readonly Queue<InFlight> _inFlight = new();
    private readonly Timer _watchdog;
    private volatile bool _killedAtDeadline;
    private volatile string? _currentJob;
    private volatile string _limit = "its deadline";

    /// <summary>How the reason of an attempt killed at its deadline starts (the executor reports it as a timeout).</summary>
    internal const string PastTimeout = "the call ran past ";

    private WorkerProcess(Process process)
    {
        _process = process;
        _input = process.StandardInput.BaseStream;
        // Buffered: a frame's header and payload (and often the next frame) arrive in one read.
        _output = new BufferedStream(process.StandardOutput.BaseStream, 64 * 1024);
        // One timer per worker, re-armed per call, kills the process when the running call passes its deadline.
        _watchdog = new Timer(static state => ((WorkerProcess)state!).OnDeadline(), this, Timeout.Infinite, Timeout.Infinite);
    }

    private void OnDeadline()
    {
        if (InFlightCount > 0)
        {
            _killedAtDeadline = true;
            Kill();
        }
    }

    public int Id => _process.Id;

    /// <summary>The job of the call the worker is running (the oldest sent and unanswered), if any.</summary>
    public string? CurrentJob => _currentJob;

    public bool HasExited => _process.HasExited;

    /// <summary>How many sent envelopes have no answer yet (the running call and those queued behind it).</summary>
    public int InFlightCount
    {
        get
        {
            lock (_flightLock)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Whether any sent and unanswered envelope belongs to <paramref name="jobId"/>.</summary>
    public bool Holds(string jobId)
    {
        lock (_flightLock)
        {
            foreach (InFlight flight in _inFlight)
            {
                if (flight.Envelope.JobId == jobId)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Starts a worker and waits, blocking the calling thread (a slot's own), for its ready frame: at most
    /// <paramref name="timeout"/> on <paramref name="time"/>, after which the process is killed.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first (the process is killed).</exception>
    /// <exception cref="InvalidOperationException">The process could not start, exited, answered something else, or timed out.</exception>
    public static WorkerProcess Start(WorkerLaunch launch, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
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

        cancellationToken.ThrowIfCancellationRequested();
        // The limit runs from before the launch, so that it covers the launch too.
        using var deadline = new CancellationTokenSource(timeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        long launched = Stopwatch.GetTimestamp();
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start the worker '{launch.FileName}'.");
        var worker = new WorkerProcess(process) { LaunchedAt = launched };
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

        // The read is synchronous, as every later one on this pipe: a single asynchronous read would register the pipe
        // with the runtime's epoll thread for good, which would then wake for every frame the worker writes (measured:
        // a third of the client's CPU per call in a 100,000-call map). Past the timeout, or when the pool stops, the
        // process is killed, which ends the read.
        (LocalFrameType Type, byte[] Payload)? frame = null;
        Exception? failure = null;
        using (stop.Token.Register(static w => ((WorkerProcess)w!).Kill(), worker))
        {
            try
            {
                frame = LocalFrames.Read(worker._output);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
            {
                failure = e;
            }
        }

        if (!stop.IsCancellationRequested && frame is { Type: LocalFrameType.Ready })
        {
            worker.ReadyAt = Stopwatch.GetTimestamp();
            return worker;
        }

        // Not ready: the process is killed, and nothing of it is kept (its pipes, its watchdog timer).
        worker.Kill();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            WaitForExitAndStderr(process, TimeSpan.FromSeconds(2));
            string what = stop.IsCancellationRequested ? $"did not start within {timeout.TotalSeconds:0} s"
                : frame is { } other ? $"sent a {other.Type} frame instead of its ready frame"
                : failure is InvalidDataException ? $"wrote something other than the local worker protocol on its standard output ({failure.Message}); is '{launch.FileName}' a Neutral worker?"
                : failure is not null ? $"broke its pipe before it was ready ({failure.Message})"
                : $"exited before it was ready (exit code {(process.HasExited ? process.ExitCode : -1)})";
            throw new InvalidOperationException($"The worker process {what}. {worker.Stderr}".Trim(), failure);
        }
        finally
        {
            worker._watchdog.Dispose();
            process.Dispose();
        }
    }

    /// <summary>Waits a moment for the process to exit and its standard error to be read to the end (for the message).</summary>
    private static void WaitForExitAndStderr(Process process, TimeSpan limit)
    {
        using var wait = new CancellationTokenSource(limit);
        try
        {
            process.WaitForExitAsync(wait.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Say what is known so far.
        }
    }

    /// <summary>When the process was launched (a <see cref="Stopwatch"/> timestamp).</summary>
    public long LaunchedAt { get; private init; }

    /// <summary>When its ready frame arrived (a <see cref="Stopwatch"/> timestamp).</summary>
    public long ReadyAt { get; private set; }

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

    /// <summary>
    /// Sends an envelope. The first one in flight runs at once, and <paramref name="runsAt"/> starts its watchdog; one
    /// sent behind it waits in the worker until <see cref="Receive"/> reports it running.
    /// </summary>
    /// <returns>false when the pipe is broken (the process died): nothing was sent.</returns>
    public bool Send(InFlight flight, DateTimeOffset runsAt)
    {
        bool first;
        lock (_flightLock)
        {
            _inFlight.Enqueue(flight);
            first = _inFlight.Count == 1;
        }

        if (first)
        {
            Running(flight, runsAt);
        }

        try
        {
            Write(LocalFrameType.Invoke, LocalEnvelope.Encode(flight.Envelope));
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void Running(InFlight flight, DateTimeOffset now)
    {
        _currentJob = flight.Envelope.JobId;
        _killedAtDeadline = false;
        DateTimeOffset? deadline = flight.Envelope.Deadline ?? (flight.Envelope.TimeoutSeconds is { } seconds ? now.AddSeconds(seconds) : null);
        // The pool sets an envelope's deadline from its timeout when the call starts: the timeout is the limit.
        _limit = flight.Envelope.TimeoutSeconds is { } timeout ? Workers.RemoteErrors.TimeoutText(timeout) : "its deadline";
        if (deadline is { } at)
        {
            TimeSpan limit = at - now + TimeSpan.FromMilliseconds(500);
            _watchdog.Change(limit > TimeSpan.Zero ? limit : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _watchdog.Change(Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>
    /// Waits for the running call's answer (blocking: the slot's own thread). Returns the answered envelope with the
    /// worker's outcome, or with the reason it is lost; <see cref="Reply.Died"/> when the process died (the call it ran
    /// is lost, and the ones queued behind it never started: <see cref="TakeUnstarted"/>).
    /// </summary>
    public Reply Receive(DateTimeOffset now)
    {
        InFlight head;
        lock (_flightLock)
        {
            head = _inFlight.Peek();
        }

        (LocalFrameType Type, byte[] Payload)? frame;
        try
        {
            frame = LocalFrames.Read(_output);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
        {
            frame = null;
        }

        if (frame is null)
        {
            _watchdog.Change(Timeout.Infinite, Timeout.Infinite);
            return new Reply(head, null, DeathReason(), Died: true);
        }

        lock (_flightLock)
        {
            _inFlight.Dequeue();
            if (_inFlight.TryPeek(out InFlight next))
            {
                Running(next, now);
            }
            else
            {
                _currentJob = null;
                _watchdog.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }

        if (frame.Value.Type == LocalFrameType.Lost)
        {
            // The worker lives, but storage failed even for the status: the attempt is lost.
            var lost = LocalLost.Decode(frame.Value.Payload);
            return new Reply(head, null, $"the worker process (pid {Id}) could not finish attempt {lost.Attempt}: {lost.Reason}", Died: false);
        }

        return frame.Value.Type == LocalFrameType.Done
            ? new Reply(head, LocalDone.Decode(frame.Value.Payload), null, Died: false)
            : new Reply(head, null, $"the worker process (pid {Id}) sent an unexpected {frame.Value.Type} frame", Died: true);
    }

    /// <summary>The envelope the worker is running: the oldest sent and unanswered.</summary>
    public bool TryPeekRunning(out InFlight running)
    {
        lock (_flightLock)
        {
            return _inFlight.TryPeek(out running);
        }
    }

    /// <summary>After the process died: the envelopes queued behind the call it was running (none of them started).</summary>
    public InFlight[] TakeUnstarted()
    {
        lock (_flightLock)
        {
            if (_inFlight.Count > 0)
            {
                _inFlight.Dequeue();
            }

            InFlight[] rest = [.. _inFlight];
            _inFlight.Clear();
            _currentJob = null;
            return rest;
        }
    }

    private string DeathReason()
    {
        if (_killedAtDeadline)
        {
            return $"{PastTimeout}{_limit}, did not stop on its cancellation token, and its worker process (pid {Id}) was killed";
        }

        string code;
        try
        {
            _process.WaitForExit(TimeSpan.FromSeconds(2));
            code = _process.HasExited ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
        }
        catch (SystemException)
        {
            // Disposed meanwhile (the pool is shutting down).
            code = "unknown";
        }

        return $"the worker process (pid {Id}) died during the call (exit code {code}). {Stderr}".Trim();
    }

    /// <summary>An envelope sent to the worker, with what is needed to queue it again if the worker dies before it runs.</summary>
    public readonly record struct InFlight(InvocationEnvelope Envelope, DateTimeOffset Enqueued);

    /// <summary>What the worker answered for <see cref="Flight"/>: an outcome, or why the attempt is lost.</summary>
    public readonly record struct Reply(InFlight Flight, CallOutcome? Outcome, string? Lost, bool Died);

    public Task CancelAsync(string jobId)
    {
        try
        {
            Write(LocalFrameType.Cancel, Encoding.UTF8.GetBytes(jobId));
        }
        catch (IOException)
        {
            // Already gone.
        }

        return Task.CompletedTask;
    }

    private void Write(LocalFrameType type, ReadOnlySpan<byte> payload)
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
                Write(LocalFrameType.Shutdown, ReadOnlySpan<byte>.Empty);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            // Killed below.
        }

        Kill();
        await _watchdog.DisposeAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}
