using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Wire;
using Neutral.Workers;
using Neutral.Workers.Local;

namespace Neutral.Local;

/// <summary>
/// The local provider's compute: a pool of warm worker processes (or, with <c>inproc</c>, threads), each running one
/// call at a time, fed from one queue. Workers write statuses to the file-system store exactly as cloud workers do;
/// the pool also tells the executor when a call finishes or a worker dies, to save it a polling round.
/// </summary>
internal sealed class LocalComputeBackend : IComputeBackend, ICallEventSource, IJobCanceller
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly LocalOptions _options;
    private readonly Channel<Queued> _queue = Channel.CreateUnbounded<Queued>();
    private readonly ConcurrentDictionary<string, ICallEventSink> _sinks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _jobTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _cancelled = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startLock = new();
    private readonly List<Slot> _slots = [];
    private readonly CallRunner _inProcessRunner;
    private WorkerLaunch? _launch;
    private Task[]? _loops;

    public LocalComputeBackend(LocalOptions options, StoreLocation store)
    {
        _options = options;
        Store = store;
        _inProcessRunner = new CallRunner(LocalWorker.OpenStore, Environment.MachineName + "/inproc");
    }

    public string Name => "local";

    public StoreLocation Store { get; }

    public bool InProcess => _options.Isolation == "inproc";

    public ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        EnsureStarted();
        if (!_queue.Writer.TryWrite(new Queued(envelope, DateTimeOffset.UtcNow)))
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
                _launch = WorkerLaunch.Resolve(_options);
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

    public void Subscribe(string jobId, ICallEventSink sink) => _sinks[jobId] = sink;

    public void Unsubscribe(string jobId)
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

        foreach (Slot slot in slots)
        {
            if (slot.Process is { } process && process.CurrentJob == jobId)
            {
                await process.CancelAsync(jobId).ConfigureAwait(false);
            }
        }
    }

    private ICallEventSink? Sink(string jobId) => _sinks.TryGetValue(jobId, out var sink) ? sink : null;

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
            InvocationEnvelope envelope = queued.Dispatch();
            if (_cancelled.ContainsKey(envelope.JobId))
            {
                Sink(envelope.JobId)?.OnLost(envelope.CallIndex, envelope.Attempt, "the job was cancelled");
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
                    Sink(envelope.JobId)?.OnLost(envelope.CallIndex, envelope.Attempt, "a worker process could not start: " + e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * failedStarts)), _stopping.Token).ConfigureAwait(false);
                    continue;
                }
            }

            Sink(envelope.JobId)?.OnDispatched(envelope.CallIndex, envelope.Attempt);
            var (outcome, lost) = await slot.Process.RunAsync(envelope, _stopping.Token).ConfigureAwait(false);
            if (outcome is { } done)
            {
                Sink(envelope.JobId)?.OnDone(done);
            }
            else
            {
                Sink(envelope.JobId)?.OnLost(envelope.CallIndex, envelope.Attempt, lost ?? "the worker was lost");
                await slot.Process.DisposeAsync().ConfigureAwait(false);
                slot.Process = null;
            }
        }
    }

    private async Task RunThreadSlotAsync()
    {
        await foreach (Queued queued in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
        {
            InvocationEnvelope envelope = queued.Dispatch();
            ICallEventSink? sink = Sink(envelope.JobId);
            if (_cancelled.ContainsKey(envelope.JobId))
            {
                sink?.OnLost(envelope.CallIndex, envelope.Attempt, "the job was cancelled");
                continue;
            }

            CancellationTokenSource job = _jobTokens.GetOrAdd(envelope.JobId, static _ => new CancellationTokenSource());
            sink?.OnDispatched(envelope.CallIndex, envelope.Attempt);
            try
            {
                CallOutcome outcome = await _inProcessRunner.RunAsync(envelope, job.Token).ConfigureAwait(false);
                sink?.OnDone(outcome);
            }
            catch (Exception e)
            {
                sink?.OnLost(envelope.CallIndex, envelope.Attempt, "the in-process worker failed: " + e.Message);
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
    private readonly record struct Queued(InvocationEnvelope Envelope, DateTimeOffset Enqueued)
    {
        public InvocationEnvelope Dispatch() =>
            Envelope.Deadline is { } deadline ? Envelope with { Deadline = deadline + (DateTimeOffset.UtcNow - Enqueued) } : Envelope;
    }
}
