using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Neutral.Wire;
using Neutral.Workers;
using Neutral.Workers.Local;

namespace Neutral.Local;

/// <summary>
/// The local provider's compute: a pool of warm worker processes (or, with <c>inproc</c>, threads), each running one
/// call at a time, fed from one queue. Workers write statuses to the file-system store exactly as cloud workers do;
/// the pool also tells the executor when a call finishes or a worker dies, to save it a polling round.
/// </summary>
internal sealed class LocalComputeBackend : IHintingComputeBackend, ICancellingComputeBackend
{
    /// <summary>
    /// How long a worker process may take to send its ready frame, in real time: an application's fake clock (its tests)
    /// must neither kill a booting worker by moving on nor leave one that hangs without a limit by standing still.
    /// </summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    // A cancelled job's call that ignores its token is given this long before its worker is killed, so that later
    // jobs never wait behind it.
    private static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(1);
    private readonly TimeProvider _time;
    private readonly LocalOptions _options;
    private readonly Channel<Queued> _queue = Channel.CreateUnbounded<Queued>();
    private readonly ConcurrentDictionary<string, ICallHints> _sinks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _jobTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _cancelled = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ManualResetEventSlim _firstBooted = new();
    private readonly Lock _startLock = new();
    private readonly List<Slot> _slots = [];
    private readonly CallRunner _inProcessRunner;
    private readonly IReadOnlyDictionary<string, string>? _workerEnvironment;
    private WorkerLaunch? _launch;
    private Task[]? _loops;

    /// <summary>At most this many envelopes are sent to one worker at a time: the running call and one behind it.</summary>
    private const int PipelineDepth = 2;

    /// <summary>A worker whose last call took less than this gets the next envelope before it answers.</summary>
    private static readonly TimeSpan ShortCall = TimeSpan.FromMilliseconds(10);

    public LocalComputeBackend(LocalOptions options, StoreLocation store, TimeProvider time, IReadOnlyDictionary<string, string>? workerEnvironment = null)
    {
        _options = options;
        _workerEnvironment = workerEnvironment;
        _time = time;
        Store = store;
        _inProcessRunner = new CallRunner(LocalWorker.OpenStore, Environment.MachineName + "/inproc", time);
        EnsureStarted();
    }

    /// <summary>Every accepted attempt is reported started, finished or lost: queued ones answer to the pool, not to the start bound.</summary>
    public bool ReportsEveryAttempt => true;

    public string Name => "local";

    public StoreLocation Store { get; }

    public bool InProcess => _options.Isolation == "inproc";

    public ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        EnsureStarted();
        foreach (InvocationEnvelope call in envelope.Calls())
        {
            // A batch costs nothing to split here (no invocation fee, no cold start): each call takes its own worker.
            if (!_queue.Writer.TryWrite(new Queued(call, _time.GetUtcNow())))
            {
                throw new ObjectDisposedException(nameof(LocalComputeBackend), "The local backend is shut down.");
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Starts the pool: resolves how to launch workers (failing fast on misconfiguration) and starts the slots.</summary>
    public void EnsureStarted()
    {
        if (_loops is not null)
        {
            return;
        }

        lock (_startLock)
        {
            if (_loops is not null)
            {
                return;
            }

            if (!InProcess)
            {
                _launch = WorkerLaunch.Resolve(_options, Store).With(_workerEnvironment);
            }

            int count = _options.EffectiveWorkers;
            var loops = new Task[count];
            for (int i = 0; i < count; i++)
            {
                var slot = new Slot { First = i == 0 };
                lock (_slots)
                {
                    _slots.Add(slot);
                }

                // A process slot blocks on its worker's pipe: a thread of its own, not one of the pool's.
                loops[i] = InProcess
                    ? Task.Run(RunThreadSlotAsync)
                    : Task.Factory.StartNew(() => RunProcessSlot(slot), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }

            _loops = loops;
        }
    }

    public IDisposable Subscribe(string jobId, ICallHints hints)
    {
        _sinks[jobId] = hints;
        return new Subscription(this, jobId);
    }

    private sealed class Subscription(LocalComputeBackend backend, string jobId) : IDisposable
    {
        public void Dispose() => backend.Unsubscribe(jobId);
    }

    private void Unsubscribe(string jobId)
    {
        _sinks.TryRemove(jobId, out _);
        _cancelled.TryRemove(jobId, out _);
        if (_jobTokens.TryRemove(jobId, out var source))
        {
            source.Dispose();
        }
    }

    public async ValueTask CancelJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        _cancelled[jobId] = 0;
        if (_jobTokens.TryGetValue(jobId, out var source))
        {
            await source.CancelAsync().ConfigureAwait(false);
        }

        Slot[] slots;
        lock (_slots)
        {
            slots = [.. _slots];
        }

        var running = new List<WorkerProcess>();
        foreach (Slot slot in slots)
        {
            if (slot.Process is { } process && process.Holds(jobId))
            {
                await process.CancelAsync(jobId).ConfigureAwait(false);
                running.Add(process);
            }
        }

        if (running.Count > 0)
        {
            // Calls that ignore their token are not waited for: their workers are killed and replaced.
            _ = Task.Run(async () =>
            {
                await Task.Delay(CancelGrace, _time).ConfigureAwait(false);
                foreach (WorkerProcess process in running)
                {
                    if (process.CurrentJob == jobId)
                    {
                        process.Kill();
                    }
                }
            }, CancellationToken.None);
        }
    }

    private ICallHints? Sink(string jobId) => _sinks.TryGetValue(jobId, out var sink) ? sink : null;

    /// <summary>
    /// A process slot's own thread: takes envelopes from the pool's queue, sends them to its worker and blocks on the
    /// answers, reporting each to its job. No thread-pool hop per call: the answer's read, the hint and the next send
    /// happen on this thread. While calls on this worker are short (under <see cref="ShortCall"/>), one more envelope is
    /// sent before the running call answers, so the worker goes from one call to the next without waiting for the
    /// client; a long call never has another queued behind it once it has been seen to be long.
    /// </summary>
    private void RunProcessSlot(Slot slot)
    {
        int failedStarts = 0;
        try
        {
            if (!slot.First)
            {
                // The first worker boots alone: a runtime starting takes a core's worth of CPU for a while, and on a
                // small machine processes booting side by side delay the first result for all of them. The others
                // start once it is up (or has failed), while it already serves.
                _firstBooted.Wait(_stopping.Token);
            }

            // Warm from the start: the worker boots while the application builds its first calls.
            slot.Process = WorkerProcess.Start(_launch!, StartTimeout, TimeProvider.System, _stopping.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Retried, and reported to the job, when the first call needs the process.
        }
        catch (OperationCanceledException)
        {
            return;
        }
        finally
        {
            if (slot.First)
            {
                _firstBooted.Set();
            }
        }

        while (Take(out Queued queued))
        {
            InvocationEnvelope envelope = queued.Dispatch(_time.GetUtcNow());
            if (_cancelled.ContainsKey(envelope.JobId))
            {
                Sink(envelope.JobId)?.Lost(envelope.CallIndex, envelope.Attempt, "the job was cancelled");
                continue;
            }

            if (slot.Process is null || slot.Process.HasExited)
            {
                if (slot.Process is not null)
                {
                    slot.Process.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    slot.Process = null;
                }

                try
                {
                    slot.Process = WorkerProcess.Start(_launch!, StartTimeout, TimeProvider.System, _stopping.Token);
                    failedStarts = 0;
                }
                catch (OperationCanceledException)
                {
                    Sink(envelope.JobId)?.Lost(envelope.CallIndex, envelope.Attempt, "the local pool shut down");
                    return;
                }
                catch (Exception e)
                {
                    failedStarts++;
                    Sink(envelope.JobId)?.Lost(envelope.CallIndex, envelope.Attempt, "a worker process could not start: " + e.Message);
                    if (_stopping.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * failedStarts))))
                    {
                        return;
                    }

                    continue;
                }
            }

            WorkerProcess process = slot.Process;
            DateTimeOffset now = _time.GetUtcNow();
            Sink(envelope.JobId)?.Started(envelope.CallIndex, envelope.Attempt);
            if (!process.Send(new WorkerProcess.InFlight(envelope, queued.Enqueued), now))
            {
                // The pipe broke before the call was sent: the process died while idle. The attempt never started.
                Receive(slot, process);
                continue;
            }

            DateTimeOffset headSince = now;
            while (process.InFlightCount > 0)
            {
                if (slot.ShortCalls && process.InFlightCount < PipelineDepth && _queue.Reader.TryRead(out Queued next))
                {
                    // The worker's start time is the call's: its deadline is set there, from its run time limit.
                    InvocationEnvelope behind = next.Envelope with { Deadline = null };
                    if (_cancelled.ContainsKey(behind.JobId))
                    {
                        Sink(behind.JobId)?.Lost(behind.CallIndex, behind.Attempt, "the job was cancelled");
                    }
                    else if (behind.TimeoutSeconds is null || !process.Send(new WorkerProcess.InFlight(behind, next.Enqueued), _time.GetUtcNow()))
                    {
                        // Not sent (no run time limit to start in the worker, or the pipe broke): back to the queue as it was.
                        Requeue(next);
                        break;
                    }

                    continue;
                }

                if (!Receive(slot, process))
                {
                    break;
                }

                now = _time.GetUtcNow();
                slot.ShortCalls = now - headSince < ShortCall;
                headSince = now;
            }
        }
    }

    /// <summary>Reads one answer and reports it. Returns false when the process died (its unstarted envelopes are queued again).</summary>
    private bool Receive(Slot slot, WorkerProcess process)
    {
        WorkerProcess.Reply reply = process.Receive(_time.GetUtcNow());
        InvocationEnvelope done = reply.Flight.Envelope;
        if (reply.Outcome is { } outcome)
        {
            Sink(done.JobId)?.Finished(outcome.CallIndex, outcome.Attempt, outcome.Status);
        }
        else
        {
            Sink(done.JobId)?.Lost(done.CallIndex, done.Attempt, reply.Lost ?? "the worker was lost");
        }

        if (!reply.Died)
        {
            // The worker runs in order: the next envelope it holds started when this one ended.
            if (process.TryPeekRunning(out WorkerProcess.InFlight running))
            {
                Sink(running.Envelope.JobId)?.Started(running.Envelope.CallIndex, running.Envelope.Attempt);
            }

            return true;
        }

        foreach (WorkerProcess.InFlight unstarted in process.TakeUnstarted())
        {
            Requeue(new Queued(unstarted.Envelope, unstarted.Enqueued));
        }

        process.DisposeAsync().AsTask().GetAwaiter().GetResult();
        slot.Process = null;
        slot.ShortCalls = false;
        return false;
    }

    /// <summary>An envelope that never started goes back to the pool's queue (reported lost if the pool is shutting down).</summary>
    private void Requeue(Queued queued)
    {
        if (!_queue.Writer.TryWrite(queued))
        {
            Sink(queued.Envelope.JobId)?.Lost(queued.Envelope.CallIndex, queued.Envelope.Attempt, "the local pool shut down");
        }
    }

    /// <summary>Blocks the slot's thread until an envelope is queued; false when the pool stops.</summary>
    private bool Take(out Queued queued)
    {
        while (true)
        {
            if (_queue.Reader.TryRead(out queued))
            {
                return true;
            }

            try
            {
                ValueTask<bool> more = _queue.Reader.WaitToReadAsync(_stopping.Token);
                if (!(more.IsCompleted ? more.Result : more.AsTask().GetAwaiter().GetResult()))
                {
                    return false;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    private async Task RunThreadSlotAsync()
    {
        await foreach (Queued queued in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
        {
            InvocationEnvelope envelope = queued.Dispatch(_time.GetUtcNow());
            ICallHints? sink = Sink(envelope.JobId);
            if (_cancelled.ContainsKey(envelope.JobId))
            {
                sink?.Lost(envelope.CallIndex, envelope.Attempt, "the job was cancelled");
                continue;
            }

            CancellationTokenSource job = _jobTokens.GetOrAdd(envelope.JobId, static _ => new CancellationTokenSource());
            sink?.Started(envelope.CallIndex, envelope.Attempt);
            try
            {
                CallOutcome outcome = await _inProcessRunner.RunAsync(envelope, job.Token).ConfigureAwait(false);
                sink?.Finished(outcome.CallIndex, outcome.Attempt, outcome.Status);
            }
            catch (Exception e)
            {
                sink?.Lost(envelope.CallIndex, envelope.Attempt, "the in-process worker failed: " + e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        Slot[] slots;
        lock (_slots)
        {
            slots = [.. _slots];
        }

        bool ended = await LoopsEndAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (!ended)
        {
            // Slots stuck in a call: killing their processes ends the slots' waits.
            foreach (Slot slot in slots)
            {
                slot.Process?.Kill();
            }

            ended = await LoopsEndAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        await Task.WhenAll(slots.Where(s => s.Process is not null).Select(s => s.Process!.DisposeAsync().AsTask())).ConfigureAwait(false);
        foreach (var source in _jobTokens.Values)
        {
            source.Dispose();
        }

        if (ended)
        {
            _stopping.Dispose();
            _firstBooted.Dispose();
        }
    }

    private async Task<bool> LoopsEndAsync(TimeSpan limit)
    {
        if (_loops is null)
        {
            return true;
        }

        try
        {
            await Task.WhenAll(_loops).WaitAsync(limit).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception)
        {
            // A slot that ended with an error has ended.
            return _loops.All(l => l.IsCompleted);
        }
    }

    /// <summary>The slots' worker processes now, in slot order (for tests).</summary>
    internal IReadOnlyList<WorkerProcess?> Processes
    {
        get
        {
            lock (_slots)
            {
                return [.. _slots.Select(s => s.Process)];
            }
        }
    }

    private sealed class Slot
    {
        public volatile WorkerProcess? Process;

        /// <summary>The pool's first slot, whose worker boots before the others start theirs.</summary>
        public bool First { get; init; }

        /// <summary>Whether this slot's worker answered its last call quickly (then the next envelope is sent early).</summary>
        public bool ShortCalls;
    }

    /// <summary>
    /// An envelope waiting for a worker. The call's time starts when a worker takes it, not while it waits in this
    /// queue: its deadline is set then, from its run time limit.
    /// </summary>
    private readonly record struct Queued(InvocationEnvelope Envelope, DateTimeOffset Enqueued)
    {
        public InvocationEnvelope Dispatch(DateTimeOffset now) => Envelope switch
        {
            { TimeoutSeconds: { } seconds } => Envelope with { Deadline = now.AddSeconds(seconds) },
            { Deadline: { } deadline } => Envelope with { Deadline = deadline + (now - Enqueued) },
            _ => Envelope,
        };
    }
}
