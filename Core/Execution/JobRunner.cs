using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Execution;

/// <summary>
/// Runs one job to completion: writes its manifest and input, invokes every call, learns outcomes from the status
/// objects (listing <c>calls/</c> with an adaptive interval, reading statuses directly on hints and for the last
/// pending calls), retries platform faults as new attempts, launches speculative backups for stragglers, and deletes
/// the job's data at the end. One monitor task owns all call state; everything else posts events to it.
/// </summary>
internal sealed class JobRunner<T> : ICallEventSink
{
    // Invocations awaited at once (cloud invokes are HTTP requests; local ones complete at once). Shared: it is never disposed.
    private static readonly SemaphoreSlim s_invokeLimit = new(64);

    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaximumInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HintedListingInterval = TimeSpan.FromSeconds(2);
    private const int TailSize = 8;

    private readonly CloudContext _cloud;
    private readonly RemoteCall<T>[] _calls;
    private readonly RemoteFuture<T>[] _futures;
    private readonly CallState[] _state;
    private readonly Channel<JobEvent> _events = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(int Needed, TaskCompletionSource Signal)> _waiters = [];
    private readonly Lock _waitersLock = new();
    private readonly DateTimeOffset _submitted = DateTimeOffset.UtcNow;
    private readonly List<double> _durations = [];
    private long[]? _inputOffsets;
    private int _done;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _running;
    private int _inFlight;
    private bool _cancelRequested;
    private bool _hinted;

    public JobRunner(CloudContext cloud, RemoteCall<T>[] calls)
    {
        _cloud = cloud;
        _calls = calls;
        JobId = NewJobId();
        _futures = new RemoteFuture<T>[calls.Length];
        _state = new CallState[calls.Length];
        for (int i = 0; i < calls.Length; i++)
        {
            _futures[i] = new RemoteFuture<T>(JobId, i, _submitted);
            RemoteFunctionOptions options = calls[i].Function.Options;
            _state[i] = new CallState
            {
                Retries = options.Retries ?? cloud.Options.Job.Retries,
                Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds ?? cloud.Options.Job.TimeoutSeconds),
                RetryOnException = options.RetryOnException,
            };
        }
    }

    public string JobId { get; }

    public IReadOnlyList<RemoteFuture<T>> Futures => _futures;

    public event EventHandler<JobProgress>? Progress;

    /// <summary>Completes when every call has an outcome and the job's data is cleaned.</summary>
    public Task Finished => _finished.Task;

    public JobProgress Snapshot => new(_calls.Length, Volatile.Read(ref _succeeded), Volatile.Read(ref _failed), Volatile.Read(ref _cancelled), Math.Max(0, Volatile.Read(ref _running)));

    private static string NewJobId() =>
        DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_calls.Length == 0)
        {
            _finished.TrySetResult();
            return;
        }

        await WriteJobAsync(cancellationToken).ConfigureAwait(false);
        if (_cloud.Backend is ICallEventSource source)
        {
            source.Subscribe(JobId, this);
            _hinted = true;
        }

        for (int i = 0; i < _calls.Length; i++)
        {
            Launch(i);
        }

        Trace("launched");
        // Started after every first attempt is launched: the monitor then owns all call state.
        _ = Task.Run(MonitorAsync, CancellationToken.None);
    }

    private async Task WriteJobAsync(CancellationToken cancellationToken)
    {
        RemoteCall<T> first = _calls[0];
        bool large = _calls.Any(c => c.Arguments.Length > InvocationEnvelope.InlineLimit);
        if (large)
        {
            // All arguments in one object; each call reads its byte range.
            _inputOffsets = new long[_calls.Length + 1];
            long total = 0;
            for (int i = 0; i < _calls.Length; i++)
            {
                _inputOffsets[i] = total;
                total += _calls[i].Arguments.Length;
            }

            _inputOffsets[^1] = total;
            if (total > Array.MaxLength)
            {
                throw new ArgumentException($"The job's arguments add up to {total} bytes; one job holds at most {Array.MaxLength}. Pass large data with Cloud.ShareAsync or through storage.");
            }

            byte[] input = GC.AllocateUninitializedArray<byte>((int)total);
            for (int i = 0; i < _calls.Length; i++)
            {
                _calls[i].Arguments.Span.CopyTo(input.AsSpan((int)_inputOffsets[i]));
            }

            await _cloud.Jobs.PutAsync(StorageLayout.Input(JobId), input, cancellationToken).ConfigureAwait(false);
        }

        var manifest = new JobManifest
        {
            JobId = JobId,
            FunctionId = first.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(first.Function.SignatureHash),
            CallCount = _calls.Length,
            InputOffsets = _inputOffsets,
            ClientVersion = typeof(JobRunner<>).Assembly.GetName().Version?.ToString() ?? "0",
            Created = _submitted,
        };
        await _cloud.Jobs.PutAsync(StorageLayout.Manifest(JobId), WireJson.Serialize(manifest), cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ launching attempts

    /// <summary>Starts the next attempt of call <paramref name="index"/> (monitor task or start only).</summary>
    private void Launch(int index, bool speculative = false)
    {
        if (_cancelRequested)
        {
            return;
        }

        CallState state = _state[index];
        int attempt = ++state.AttemptsStarted;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        state.CurrentAttempt = attempt;
        state.AttemptStart = now;
        state.DispatchedAt = null;
        state.Deadline = now + state.Timeout;
        state.Speculated |= speculative;
        Interlocked.Increment(ref _inFlight);
        _futures[index].UpdateStats(s => s with { AttemptsStarted = attempt });

        RemoteCall<T> call = _calls[index];
        bool inline = _inputOffsets is null || call.Arguments.Length <= InvocationEnvelope.InlineLimit;
        var envelope = new InvocationEnvelope
        {
            JobId = JobId,
            CallIndex = index,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            InlineInput = inline ? call.Arguments.ToArray() : null,
            InputRange = inline ? null : new InputRange(StorageLayout.Input(JobId), _inputOffsets![index], call.Arguments.Length),
            Attempt = attempt,
            Deadline = state.Deadline,
            Store = _cloud.Location,
        };

        ValueTask invoke;
        try
        {
            invoke = _cloud.Backend.InvokeAsync(envelope);
        }
        catch (Exception e)
        {
            Post(new JobEvent(EventKind.InvokeFailed, index, attempt, e.Message));
            return;
        }

        if (invoke.IsCompletedSuccessfully)
        {
            _futures[index].UpdateStats(s => s with { Invoked = now });
            return;
        }

        _ = AwaitInvokeAsync(invoke, index, attempt, now);
    }

    private async Task AwaitInvokeAsync(ValueTask invoke, int index, int attempt, DateTimeOffset now)
    {
        await s_invokeLimit.WaitAsync().ConfigureAwait(false);
        try
        {
            await invoke.ConfigureAwait(false);
            _futures[index].UpdateStats(s => s with { Invoked = now });
        }
        catch (Exception e)
        {
            Post(new JobEvent(EventKind.InvokeFailed, index, attempt, e.GetType().Name + ": " + e.Message));
        }
        finally
        {
            s_invokeLimit.Release();
        }
    }

    // ------------------------------------------------------------------ hints and commands (any thread)

    private void Post(JobEvent e) => _events.Writer.TryWrite(e);

    public void OnDispatched(int callIndex, int attempt) => Post(new JobEvent(EventKind.Dispatched, callIndex, attempt, null));

    public void OnDone(CallOutcome outcome) => Post(new JobEvent(EventKind.Done, outcome.CallIndex, outcome.Attempt, null, outcome.Status));

    public void OnLost(int callIndex, int attempt, string reason) => Post(new JobEvent(EventKind.Lost, callIndex, attempt, reason));

    public Task CancelAsync()
    {
        Post(new JobEvent(EventKind.Cancel, -1, 0, null));
        return _finished.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    // ------------------------------------------------------------------ the monitor

    private async Task MonitorAsync()
    {
        TimeSpan interval = MinimumInterval;
        DateTimeOffset nextListing = DateTimeOffset.UtcNow + MinimumInterval;
        DateTimeOffset nextSweep = DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
        DateTimeOffset lastEvent = DateTimeOffset.UtcNow;
        try
        {
            while (_done < _calls.Length)
            {
                DateTimeOffset now = DateTimeOffset.UtcNow;
                TimeSpan wait = Min(nextListing, nextSweep) - now;
                if (wait > TimeSpan.Zero && !_events.Reader.TryPeek(out _))
                {
                    using var timer = new CancellationTokenSource(wait);
                    try
                    {
                        await _events.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (timer.IsCancellationRequested)
                    {
                    }
                }

                var toRead = new HashSet<int>();
                var known = new List<(int Index, byte[] Status)>();
                while (_events.Reader.TryRead(out JobEvent e))
                {
                    Handle(e, toRead, known);
                    lastEvent = DateTimeOffset.UtcNow;
                }

                foreach (var (index, status) in known)
                {
                    if (!_state[index].Done)
                    {
                        toRead.Remove(index);
                        await OnStatusAsync(index, status).ConfigureAwait(false);
                    }
                }

                now = DateTimeOffset.UtcNow;
                if (_hinted && now - lastEvent < HintedListingInterval)
                {
                    // Hints are flowing: the listing (the safety net for lost hints) waits for a quiet spell.
                    nextListing = Max(nextListing, lastEvent + HintedListingInterval);
                }

                if (now >= nextListing && _done < _calls.Length && !_cancelRequested)
                {
                    int before = toRead.Count;
                    long listStart = System.Diagnostics.Stopwatch.GetTimestamp();
                    await ListAsync(toRead).ConfigureAwait(false);
                    Trace($"listed in {System.Diagnostics.Stopwatch.GetElapsedTime(listStart).TotalMilliseconds:0.0} ms, {toRead.Count - before} new statuses, done {_done}");
                    bool progress = toRead.Count > before;
                    // With hints the listing is only the safety net; without, it is how news arrives: poll fast while
                    // it brings progress, back off while it does not.
                    interval = _hinted ? HintedListingInterval : progress ? MinimumInterval : Min(interval * 2, MaximumInterval);

                    nextListing = now + interval;
                    AddTail(toRead);
                }

                if (toRead.Count > 0)
                {
                    await ReadStatusesAsync(toRead).ConfigureAwait(false);
                }

                if (now >= nextSweep && _done < _calls.Length && !_cancelRequested)
                {
                    await SweepAsync(now).ConfigureAwait(false);
                    nextSweep = now + TimeSpan.FromMilliseconds(100);
                }
            }
        }
        catch (Exception e)
        {
            // The monitor itself failed (storage unreachable): fail what is left rather than hang.
            for (int i = 0; i < _calls.Length; i++)
            {
                if (!_state[i].Done)
                {
                    Fail(i, new RemoteException("The job monitor failed: " + e.Message, e.GetType().FullName!, e.StackTrace, JobId, i, _state[i].CurrentAttempt, e));
                }
            }
        }

        await FinishAsync().ConfigureAwait(false);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void Handle(JobEvent e, HashSet<int> toRead, List<(int Index, byte[] Status)> known)
    {
        if (e.Kind == EventKind.Cancel)
        {
            Cancel();
            return;
        }

        CallState state = _state[e.CallIndex];
        switch (e.Kind)
        {
            case EventKind.Dispatched:
                if (!state.Done && e.Attempt == state.CurrentAttempt)
                {
                    // The attempt's time starts when a worker takes it, not while it waits in the backend's queue.
                    state.DispatchedAt = DateTimeOffset.UtcNow;
                    state.Deadline = state.DispatchedAt.Value + state.Timeout;
                    MarkRunning(e.CallIndex);
                }

                break;
            case EventKind.Done:
                Interlocked.Decrement(ref _inFlight);
                if (!state.Done && e.Status is not null)
                {
                    // The worker created the status with exactly these bytes (create-only): no need to read it back.
                    known.Add((e.CallIndex, e.Status));
                }
                else if (!state.Done)
                {
                    toRead.Add(e.CallIndex);
                }

                break;
            case EventKind.Lost:
                Interlocked.Decrement(ref _inFlight);
                if (!state.Done && e.Attempt == state.CurrentAttempt)
                {
                    Fault(e.CallIndex, "Neutral.WorkerLost", e.Detail ?? "the worker was lost");
                }

                break;
            case EventKind.InvokeFailed:
                Interlocked.Decrement(ref _inFlight);
                if (!state.Done && e.Attempt == state.CurrentAttempt)
                {
                    Fault(e.CallIndex, "Neutral.InvokeFailed", "the platform refused the invocation: " + e.Detail);
                }

                break;
        }
    }

    private void MarkRunning(int index)
    {
        if (!_state[index].Running && !_state[index].Done)
        {
            _state[index].Running = true;
            _futures[index].MarkRunning();
            Interlocked.Increment(ref _running);
        }
    }

    /// <summary>A platform fault of the current attempt: retry while the budget lasts, else fail.</summary>
    private void Fault(int index, string type, string message)
    {
        CallState state = _state[index];
        state.Faults++;
        if (state.Faults <= state.Retries && !_cancelRequested)
        {
            Launch(index);
            return;
        }

        Fail(index, new RemoteException($"Call {index} of job {JobId} failed after {state.AttemptsStarted} attempts: {message}", type, null, JobId, index, state.CurrentAttempt));
    }

    private async Task ListAsync(HashSet<int> toRead)
    {
        string prefix = StorageLayout.Calls(JobId);
        await foreach (ObjectInfo info in _cloud.Jobs.ListAsync(prefix).ConfigureAwait(false))
        {
            if (!StorageLayout.TryParseCallKey(JobId, info.Key, out int index, out string name) || index >= _calls.Length || _state[index].Done)
            {
                continue;
            }

            if (name == "status")
            {
                toRead.Add(index);
            }
            else if (name.StartsWith("started.", StringComparison.Ordinal))
            {
                MarkRunning(index);
            }
        }
    }

    /// <summary>Listings can lag: read the last pending calls' statuses directly.</summary>
    private void AddTail(HashSet<int> toRead)
    {
        int pending = _calls.Length - _done;
        if (pending > TailSize)
        {
            return;
        }

        for (int i = 0; i < _calls.Length; i++)
        {
            if (!_state[i].Done)
            {
                toRead.Add(i);
            }
        }
    }

    private async Task ReadStatusesAsync(HashSet<int> indices)
    {
        var read = new (int Index, byte[]? Bytes)[indices.Count];
        int n = 0;
        foreach (int i in indices)
        {
            read[n++] = (i, null);
        }

        if (n <= 2)
        {
            for (int k = 0; k < n; k++)
            {
                read[k].Bytes = await _cloud.Jobs.GetAsync(StorageLayout.Status(JobId, read[k].Index)).ConfigureAwait(false);
            }
        }
        else
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (k, ct) =>
            {
                read[k].Bytes = await _cloud.Jobs.GetAsync(StorageLayout.Status(JobId, read[k].Index), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        foreach (var (index, bytes) in read)
        {
            if (bytes is not null && !_state[index].Done)
            {
                await OnStatusAsync(index, bytes).ConfigureAwait(false);
            }
        }
    }

    private async Task OnStatusAsync(int index, byte[] bytes)
    {
        CallState state = _state[index];
        DateTimeOffset seen = DateTimeOffset.UtcNow;
        StatusRecord status;
        try
        {
            status = WireJson.DeserializeStatus(bytes);
        }
        catch (FormatException e)
        {
            Fail(index, new RemoteException($"The status object of call {index} is not valid: {e.Message}", typeof(FormatException).FullName!, null, JobId, index, state.CurrentAttempt, e));
            return;
        }

        _futures[index].UpdateStats(s => s with
        {
            WorkerStart = status.WorkerStart,
            WorkerEnd = status.WorkerEnd,
            StatusSeen = seen,
            Attempt = status.Attempt,
            ColdStart = status.ColdStart,
            BytesIn = status.BytesIn,
            BytesOut = status.BytesOut,
            WorkerHost = status.Host,
            Log = status.Log,
        });

        if (status.Succeeded)
        {
            byte[]? payload = status.InlineResult;
            if (payload is null && status.OutputKey is not null)
            {
                payload = await _cloud.Jobs.GetAsync(status.OutputKey).ConfigureAwait(false);
            }

            if (payload is null)
            {
                await RetryAfterFailedStatusAsync(index, status, "Neutral.OutputMissing", $"the result object '{status.OutputKey}' is missing").ConfigureAwait(false);
                return;
            }

            T value;
            try
            {
                value = _calls[index].Function.DecodeResult(payload);
            }
            catch (CodecException e)
            {
                Fail(index, new RemoteException(e.Message, typeof(CodecException).FullName!, null, JobId, index, status.Attempt, e));
                return;
            }

            _durations.Add((seen - (state.DispatchedAt ?? state.AttemptStart)).TotalSeconds);

            state.Done = true;
            _futures[index].UpdateStats(s => s with { ResultFetched = DateTimeOffset.UtcNow });
            if (_futures[index].TrySucceed(value))
            {
                Interlocked.Increment(ref _succeeded);
            }

            Completed(index);
            return;
        }

        RemoteError error = status.Error ?? new RemoteError(RemoteError.PlatformKind, "Neutral.UnknownError", "the status reports a failure without an error", null);
        bool retryable = error.Kind switch
        {
            RemoteError.UserKind => state.RetryOnException,
            RemoteError.PlatformKind => true,
            _ => false,
        };
        if (retryable)
        {
            await RetryAfterFailedStatusAsync(index, status, error.Type, error.Message).ConfigureAwait(false);
            return;
        }

        Fail(index, new RemoteException(error.Message, error.Type, error.StackTrace, JobId, index, status.Attempt));
    }

    /// <summary>
    /// A retryable failure was recorded in the create-only status: delete it so that a later attempt can write its
    /// own, then retry (unless a newer attempt is already running, which will write it).
    /// </summary>
    private async Task RetryAfterFailedStatusAsync(int index, StatusRecord status, string type, string message)
    {
        CallState state = _state[index];
        if (state.Faults >= state.Retries || _cancelRequested)
        {
            var error = status.Error;
            Fail(index, new RemoteException(
                $"Call {index} of job {JobId} failed after {state.AttemptsStarted} attempts: {message}", type, error?.StackTrace, JobId, index, status.Attempt));
            return;
        }

        await _cloud.Jobs.DeleteAsync(StorageLayout.Status(JobId, index)).ConfigureAwait(false);
        if (status.Attempt < state.CurrentAttempt)
        {
            state.Faults++;
            return;
        }

        Fault(index, type, message);
    }

    private void Fail(int index, RemoteException error)
    {
        CallState state = _state[index];
        if (state.Done)
        {
            return;
        }

        state.Done = true;
        if (_futures[index].TryFail(error))
        {
            Interlocked.Increment(ref _failed);
        }

        Completed(index);
    }

    private void Completed(int index)
    {
        if (_state[index].Running)
        {
            _state[index].Running = false;
            Interlocked.Decrement(ref _running);
        }

        int done = Interlocked.Increment(ref _done);
        Progress?.Invoke(this, Snapshot);
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

    /// <summary>Deadlines (no status by the deadline: a platform fault) and speculative backups.</summary>
    private async Task SweepAsync(DateTimeOffset now)
    {
        var overdue = new List<int>();
        for (int i = 0; i < _calls.Length; i++)
        {
            CallState state = _state[i];
            TimeSpan grace = TimeSpan.FromSeconds(Math.Max(1, state.Timeout.TotalSeconds * 0.05));
            bool queued = _hinted && state.DispatchedAt is null;
            if (!state.Done && !queued && now > state.Deadline + grace)
            {
                overdue.Add(i);
            }
        }

        if (overdue.Count > 0)
        {
            // The status may be there after all: read it before calling the attempt lost.
            await ReadStatusesAsync([.. overdue]).ConfigureAwait(false);
            foreach (int i in overdue)
            {
                if (!_state[i].Done && now > _state[i].Deadline + TimeSpan.FromSeconds(Math.Max(1, _state[i].Timeout.TotalSeconds * 0.05)))
                {
                    Fault(i, typeof(TimeoutException).FullName!, $"no status within {_state[i].Timeout.TotalSeconds:0.#} s");
                }
            }
        }

        Speculate(now);
    }

    private void Speculate(DateTimeOffset now)
    {
        if (!_cloud.Options.Job.Speculation || _calls.Length < 2 || _done < 0.9 * _calls.Length)
        {
            return;
        }

        // Only the monitor task touches the durations: no lock.
        if (_durations.Count == 0)
        {
            return;
        }

        var sorted = _durations.OrderBy(d => d).ToArray();
        double median = sorted[sorted.Length / 2];

        double threshold = Math.Max(3 * median, 0.2);
        for (int i = 0; i < _calls.Length; i++)
        {
            CallState state = _state[i];
            if (!state.Done && !state.Speculated && state.DispatchedAt is { } dispatched && (now - dispatched).TotalSeconds > threshold)
            {
                Trace($"speculating call {i}");
                Launch(i, speculative: true);
            }
        }
    }

    private void Cancel()
    {
        if (_cancelRequested)
        {
            return;
        }

        _cancelRequested = true;
        for (int i = 0; i < _calls.Length; i++)
        {
            if (!_state[i].Done && _futures[i].TryCancel())
            {
                _state[i].Done = true;
                Interlocked.Increment(ref _cancelled);
                Completed(i);
            }
        }

        if (_cloud.Backend is IJobCanceller canceller)
        {
            _ = canceller.CancelJobAsync(JobId).AsTask();
        }
    }

    private static readonly bool s_trace = Environment.GetEnvironmentVariable("NEUTRAL_TRACE") == "1";

    private void Trace(string what)
    {
        if (s_trace)
        {
            Console.Error.WriteLine($"[{JobId}] {(DateTimeOffset.UtcNow - _submitted).TotalMilliseconds,8:0.0} ms {what}");
        }
    }

    private async Task FinishAsync()
    {
        Trace("all calls done");
        try
        {
            if (!_cloud.Options.Job.KeepData)
            {
                // Give attempts still running (speculative losers, cancelled calls) a moment to end, so that they
                // do not write into a deleted job.
                if (_hinted)
                {
                    var until = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(_cancelRequested ? 5 : 2);
                    while (Volatile.Read(ref _inFlight) > 0 && DateTimeOffset.UtcNow < until)
                    {
                        while (_events.Reader.TryRead(out JobEvent e))
                        {
                            if (e.Kind is EventKind.Done or EventKind.Lost or EventKind.InvokeFailed)
                            {
                                Interlocked.Decrement(ref _inFlight);
                            }
                        }

                        await Task.Delay(10).ConfigureAwait(false);
                    }
                }

                Trace("in flight drained: " + Volatile.Read(ref _inFlight));
                await _cloud.Jobs.DeletePrefixAsync(StorageLayout.Job(JobId)).ConfigureAwait(false);
                Trace("deleted");
            }
        }
        catch (Exception)
        {
            // Cleaning is best effort: leftover job data is harmless and `neutral clean` removes it.
        }
        finally
        {
            if (_cloud.Backend is ICallEventSource source)
            {
                source.Unsubscribe(JobId);
            }

            _finished.TrySetResult();
        }
    }

    // ------------------------------------------------------------------ waiting

    public Task WaitAsync(ReturnWhen when, CancellationToken cancellationToken)
    {
        int needed = when.Needed(_calls.Length);
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

    private sealed class CallState
    {
        public int Retries;
        public TimeSpan Timeout;
        public bool RetryOnException;
        public int AttemptsStarted;
        public int CurrentAttempt;
        public int Faults;
        public DateTimeOffset AttemptStart;
        public DateTimeOffset? DispatchedAt;
        public DateTimeOffset Deadline;
        public bool Speculated;
        public bool Running;
        public bool Done;
    }

    private enum EventKind
    {
        Dispatched,
        Done,
        Lost,
        InvokeFailed,
        Cancel,
    }

    private readonly record struct JobEvent(EventKind Kind, int CallIndex, int Attempt, string? Detail, byte[]? Status = null);
}
