using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>
/// Every call's state and how the job stands: the calls' ends (succeeded, failed, cancelled), the counters progress
/// snapshots read, and the waiters of <see cref="RemoteJob{T}.WaitAsync"/>. Written by the job's monitor task alone;
/// the counters are read from any thread.
/// </summary>
internal sealed class CallLedger
{
    private readonly IResultSink _sink;
    private readonly CallState[] _state;
    private readonly Action _changed;
    private readonly List<(int Needed, TaskCompletionSource Signal)> _waiters = [];
    private readonly Lock _waitersLock = new();
    private int _done;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _running;
    private int _peakRunning;
    private bool _interrupted;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(int Index, RemoteException Error)> _failures = new();
    private int _failuresKept;

    /// <summary>The first <see cref="KeptFailures.Limit"/> calls that failed, with their errors (kept for replay).</summary>
    public IReadOnlyCollection<(int Index, RemoteException Error)> Failures => _failures;

    /// <param name="sink">The job's futures.</param>
    /// <param name="changed">Called when a call starts running or ends (for progress).</param>
    public CallLedger(IResultSink sink, Action changed)
    {
        _sink = sink;
        _changed = changed;
        _state = new CallState[sink.Count];
        for (int i = 0; i < _state.Length; i++)
        {
            _state[i] = new CallState();
        }
    }

    public int Count => _state.Length;

    public CallState this[int index] => _state[index];

    /// <summary>The states, for the poller's listing.</summary>
    public CallState[] States => _state;

    /// <summary>Calls with an outcome.</summary>
    public int Done => Volatile.Read(ref _done);

    public bool AllDone => Done >= _state.Length;

    /// <summary>The most calls counted running at once (the monitor's loop alone starts calls), for tests.</summary>
    public int PeakRunning => Volatile.Read(ref _peakRunning);

    public JobProgress Snapshot => new(_state.Length, Volatile.Read(ref _succeeded), Volatile.Read(ref _failed), Volatile.Read(ref _cancelled), Math.Max(0, Volatile.Read(ref _running)));

    /// <summary>The newest attempt of call <paramref name="index"/> started: its deadline counts from <paramref name="now"/>.</summary>
    public void Started(int index, DateTimeOffset now)
    {
        CallState state = _state[index];
        state.InvokedAt ??= now;
        state.StartedAt ??= now;
        if (!state.Running && !state.Done)
        {
            state.Running = true;
            _sink.MarkRunning(index);
            int running = Interlocked.Increment(ref _running);
            if (running > _peakRunning)
            {
                _peakRunning = running;
            }

            _changed();
        }
    }

    /// <summary>Delivers call <paramref name="index"/>'s result, decoded by the sink just before.</summary>
    public void Succeed(int index)
    {
        if (_state[index].Done)
        {
            return;
        }

        bool delivered = _sink.TryDeliver(index);
        Volatile.Write(ref _state[index].Done, true);
        if (delivered)
        {
            Interlocked.Increment(ref _succeeded);
            Telemetry.CallsSucceeded.Add(1);
        }

        Completed(index);
    }

    public void Fail(int index, RemoteException error)
    {
        CallState state = _state[index];
        if (state.Done)
        {
            return;
        }

        Volatile.Write(ref state.Done, true);
        if (_sink.TryFail(index, error))
        {
            if (Interlocked.Increment(ref _failuresKept) <= KeptFailures.Limit)
            {
                _failures.Enqueue((index, error));
            }

            Interlocked.Increment(ref _failed);
            Telemetry.CallsFailed.Add(1);
        }

        Completed(index);
    }

    /// <summary>Whether the job itself failed (it could not be staged, or the store stayed unreachable): its calls' failures are not theirs.</summary>
    public bool FailedAsAWhole { get; private set; }

    /// <summary>Fails every call without an outcome with the error <paramref name="error"/> makes for it.</summary>
    public void FailPending(Func<int, RemoteException> error)
    {
        FailedAsAWhole = true;
        for (int i = 0; i < _state.Length; i++)
        {
            if (!_state[i].Done)
            {
                Fail(i, error(i));
            }
        }
    }

    /// <summary>
    /// Set when the process is ending on a signal (<see cref="ShutdownSignals"/>): calls are still marked done, so the
    /// job ends and cleans up, but their futures and waiters are left pending, so the application's code awaiting them
    /// does not run on (to crash on a cancellation) while the cleanup runs and the process exits.
    /// </summary>
    public bool Interrupted
    {
        get => Volatile.Read(ref _interrupted);
        set => Volatile.Write(ref _interrupted, value);
    }

    /// <summary>Marks every call without an outcome cancelled (done only, when <see cref="Interrupted"/>).</summary>
    public void CancelPending()
    {
        for (int i = 0; i < _state.Length; i++)
        {
            if (Interrupted && !_state[i].Done)
            {
                Volatile.Write(ref _state[i].Done, true);
                Interlocked.Increment(ref _done);
            }
            else if (!_state[i].Done && _sink.TryCancel(i))
            {
                Volatile.Write(ref _state[i].Done, true);
                Interlocked.Increment(ref _cancelled);
                Completed(i);
            }
        }
    }

    /// <summary>Completes when <paramref name="when"/> is met.</summary>
    public Task WaitAsync(ReturnWhen when, CancellationToken cancellationToken)
    {
        int needed = when.Needed(_state.Length);
        if (Interrupted)
        {
            // The process is ending on a signal: nothing the application awaits completes any more.
            return new TaskCompletionSource().Task.WaitAsync(cancellationToken);
        }

        lock (_waitersLock)
        {
            if (Volatile.Read(ref _done) >= needed)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((needed, signal));
            return signal.Task.WaitAsync(cancellationToken);
        }
    }

    private void Completed(int index)
    {
        if (_state[index].Running)
        {
            _state[index].Running = false;
            Interlocked.Decrement(ref _running);
        }

        int done = Interlocked.Increment(ref _done);
        _changed();
        lock (_waitersLock)
        {
            for (int w = _waiters.Count - 1; w >= 0; w--)
            {
                if (done >= _waiters[w].Needed)
                {
                    _waiters[w].Signal.TrySetResult();
                    _waiters.RemoveAt(w);
                }
            }
        }
    }
}
