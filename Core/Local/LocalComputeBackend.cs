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
    private readonly Lock _startLock = new();
    private readonly List<Slot> _slots = [];
    private readonly CallRunner _inProcessRunner;
    private readonly IReadOnlyDictionary<string, string>? _workerEnvironment;
    private WorkerLaunch? _launch;
    private Task[]? _loops;

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
        if (!_queue.Writer.TryWrite(new Queued(envelope, _time.GetUtcNow())))
        {
            throw new ObjectDisposedException(nameof(LocalComputeBackend), "The local backend is shut down.");
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
                var slot = new Slot();
                lock (_slots)
                {
                    _slots.Add(slot);
                }

                loops[i] = Task.Run(() => InProcess ? RunThreadSlotAsync() : RunProcessSlotAsync(slot));
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
            if (slot.Process is { } process && process.CurrentJob == jobId)
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

    private async Task RunProcessSlotAsync(Slot slot)
    {
        int failedStarts = 0;
        try
        {
            // Warm from the start: the worker boots while the application builds its first calls.
            slot.Process = await WorkerProcess.StartAsync(_launch!, StartTimeout, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Retried, and reported to the job, when the first call needs the process.
        }

        await foreach (Queued queued in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
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
                    await slot.Process.DisposeAsync().ConfigureAwait(false);
                    slot.Process = null;
                }

                try
                {
                    slot.Process = await WorkerProcess.StartAsync(_launch!, StartTimeout, _stopping.Token).ConfigureAwait(false);
                    failedStarts = 0;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failedStarts++;
                    Sink(envelope.JobId)?.Lost(envelope.CallIndex, envelope.Attempt, "a worker process could not start: " + e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * failedStarts)), _stopping.Token).ConfigureAwait(false);
                    continue;
                }
            }

            Sink(envelope.JobId)?.Started(envelope.CallIndex, envelope.Attempt);
            var (outcome, lost) = await slot.Process.RunAsync(envelope, _stopping.Token).ConfigureAwait(false);
            if (outcome is { } done)
            {
                Sink(envelope.JobId)?.Finished(done.CallIndex, done.Attempt, done.Status);
            }
            else
            {
                Sink(envelope.JobId)?.Lost(envelope.CallIndex, envelope.Attempt, lost ?? "the worker was lost");
                await slot.Process.DisposeAsync().ConfigureAwait(false);
                slot.Process = null;
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
        if (_loops is not null)
        {
            try
            {
                await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException)
            {
                // Slots stuck in a call: their processes are killed below.
            }
        }

        Slot[] slots;
        lock (_slots)
        {
            slots = [.. _slots];
        }

        await Task.WhenAll(slots.Where(s => s.Process is not null).Select(s => s.Process!.DisposeAsync().AsTask())).ConfigureAwait(false);
        foreach (var source in _jobTokens.Values)
        {
            source.Dispose();
        }

        _stopping.Dispose();
    }

    private sealed class Slot
    {
        public WorkerProcess? Process;
    }

    /// <summary>An envelope waiting for a worker. Its deadline moves by the time it waited: a call's time starts when a worker takes it.</summary>
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
