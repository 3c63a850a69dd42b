using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Neutral.Codec;
using Neutral.Storage;
using Neutral.Dispatch;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Runs one job to completion. The parts: <see cref="JobStaging"/> (arguments packed and written off the caller's
/// thread), <see cref="Launcher"/> (attempts through the cloud's invoke gate), <see cref="StatusPoller"/> (what
/// storage says: listings, tail reads), hints from the backend, <see cref="StatusInterpreter"/> and
/// <see cref="AttemptPolicy"/> (pure decisions), <see cref="ProgressDispatcher"/> (events off this loop), and cleanup.
/// One monitor task owns every call's state; everything else posts events to it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213", Justification = "Stopped, not disposed: pumps may still observe it.")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop source lives as long as the job; cancelling it is all it needs.")]
internal sealed class JobRunner<T> : ICallHints
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(100);
    private const int TailSize = 8;

    private readonly CloudContext _cloud;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _count;
    private readonly RemoteFunction<T> _function;
    private readonly RemoteFunction<T>[]? _functions;
    private RemoteCall<T>[]? _calls;
    private JobStaging? _staging;
    private readonly RemoteFuture<T>[] _futures;
    private readonly CallState[] _state;
    private readonly Channel<JobEvent> _events = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelApplied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(int Needed, TaskCompletionSource Signal)> _waiters = [];
    private readonly Lock _waitersLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly DateTimeOffset _submitted;
    private readonly ProgressDispatcher _progress;
    private readonly AttemptPolicy _policy;
    private readonly StatusPoller _poller;
    private Launcher? _launcher;
    private IDisposable? _hintSubscription;
    private int _done;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _running;
    private int _liveAttempts;
    private bool _cancelRequested;

    public JobRunner(CloudContext cloud, RemoteCall<T>[] calls)
    {
        _cloud = cloud;
        _time = cloud.Time;
        _logger = cloud.Logger;
        _calls = calls;
        _count = calls.Length;
        _submitted = _time.GetUtcNow();
        JobId = JobCleanup.NewId(_submitted);
        _function = calls.Length > 0 ? calls[0].Function : null!;
        if (calls.Any(c => !ReferenceEquals(c.Function, _function)))
        {
            _functions = calls.Select(c => c.Function).ToArray();
        }

        _futures = new RemoteFuture<T>[calls.Length];
        _state = new CallState[calls.Length];
        for (int i = 0; i < calls.Length; i++)
        {
            _futures[i] = new RemoteFuture<T>(JobId, i, _submitted);
            _state[i] = new CallState();
        }

        bool answersForQueue = cloud.Backend is IHintingComputeBackend { ReportsEveryAttempt: true };
        _policy = new AttemptPolicy(TimeSpan.FromSeconds(cloud.Options.Job.StartTimeoutSeconds), answersForQueue, cloud.Options.Job.Speculation);
        _progress = new ProgressDispatcher(_logger, p => Progress?.Invoke(this, p));
        _poller = new StatusPoller(cloud.Jobs, JobId, hinted: cloud.Backend is IHintingComputeBackend, _time, TimeSpan.FromSeconds(cloud.Options.Job.StoreRetrySeconds));
    }

    public string JobId { get; }

    public IReadOnlyList<RemoteFuture<T>> Futures => _futures;

    public event EventHandler<JobProgress>? Progress;

    /// <summary>Whether a <see cref="RemoteJob{T}.Progress"/> handler is subscribed (snapshots are dispatched only then).</summary>
    public bool ProgressWanted
    {
        get => Volatile.Read(ref _progressWanted);
        set => Volatile.Write(ref _progressWanted, value);
    }

    private bool _progressWanted;

    private void PostProgress()
    {
        if (ProgressWanted)
        {
            _progress.Post(Snapshot);
        }
    }

    /// <summary>Completes when every call has an outcome and the job's data is cleaned.</summary>
    public Task Finished => _finished.Task;

    /// <summary>How many times a Progress handler threw.</summary>
    public int ProgressHandlerErrors => _progress.HandlerErrors;

    /// <summary>What the job used so far, from its calls' stats.</summary>
    public JobUsage Usage
    {
        get
        {
            int invocations = 0;
            int completed = 0;
            long milliseconds = 0;
            foreach (RemoteFuture<T> future in _futures)
            {
                CallStats stats = future.Stats;
                invocations += stats.AttemptsStarted;
                if (stats.WorkerStart is { } start && stats.WorkerEnd is { } end)
                {
                    completed++;
                    milliseconds += (long)Math.Ceiling(Math.Max(0, (end - start).TotalMilliseconds));
                }
            }

            return new JobUsage(_futures.Length, invocations, milliseconds, completed);
        }
    }

    /// <summary>The backend's price for <see cref="Usage"/>; 0 for a backend without prices (the local one).</summary>
    public decimal EstimatedCost => _cloud.Backend is IPricedComputeBackend priced ? priced.EstimateCost(Usage) : 0m;

    public JobProgress Snapshot => new(_count, Volatile.Read(ref _succeeded), Volatile.Read(ref _failed), Volatile.Read(ref _cancelled), Math.Max(0, Volatile.Read(ref _running)));

    private RemoteFunction<T> FunctionOf(int index) => _functions?[index] ?? _function;

    private int RetriesOf(int index) => FunctionOf(index).Options.Retries ?? _cloud.Options.Job.Retries;

    private TimeSpan TimeoutOf(int index) => TimeSpan.FromSeconds(FunctionOf(index).Options.TimeoutSeconds ?? _cloud.Options.Job.TimeoutSeconds);

    /// <summary>Starts the job: returns at once; staging, launching and monitoring run in the background.</summary>
    public void Start()
    {
        if (_count == 0)
        {
            _cancelApplied.TrySetResult();
            _finished.TrySetResult();
            return;
        }

        _ = Task.Run(RunAsync, CancellationToken.None);
    }

    private async Task RunAsync()
    {
        string phase = "start";
        try
        {
            RemoteCall<T>[] calls = _calls!;
            if (_cloud.Backend is IDeployedComputeBackend deployed)
            {
                // A stale deployment fails the job here, once, rather than each call in a worker.
                var functions = (_functions ?? [_function]).Select(f => new RemoteFunctionInfo(f.Id, f.SignatureHash)).Distinct().ToArray();
                await deployed.VerifyDeploymentAsync(functions, _stop.Token).ConfigureAwait(false);
                Trace("deployment verified");
            }

            phase = "be staged";
            _staging = JobStaging.Pack(calls);
            var manifest = new JobManifest
            {
                JobId = JobId,
                FunctionId = _function.Id,
                SignatureHash = InvocationEnvelope.FormatHash(_function.SignatureHash),
                CallCount = _count,
                ClientVersion = typeof(JobRunner<>).Assembly.GetName().Version?.ToString() ?? "0",
                Owner = _cloud.Owner,
                Created = _submitted,
            };
            await _staging.WriteAsync(_cloud.Jobs, manifest, _stop.Token).ConfigureAwait(false);
            _calls = null; // the packed copy is all the job keeps
            Trace("staged");
        }
        catch (Exception e)
        {
            // Cancelled while staging, or the store refused the job: every call ends now.
            _calls = null;
            if (!_stop.IsCancellationRequested)
            {
                for (int i = 0; i < _count; i++)
                {
                    Fail(i, new RemoteException($"Job {JobId} could not {phase}: {e.Message}", e.GetType().FullName!, null, JobId, i, 0, e));
                }
            }
            else
            {
                // Cancelled before a single call was invoked: every call is cancelled (else they would stay pending).
                Cancel();
            }

            _cancelApplied.TrySetResult();
            await FinishAsync(staged: false).ConfigureAwait(false);
            return;
        }

        if (_cloud.Backend is IHintingComputeBackend hinting)
        {
            _hintSubscription = hinting.Subscribe(JobId, this);
        }

        // A few pumps per job: enough to keep the cloud's gate busy, few enough that a job holds no task per call.
        int pumps = Math.Min(_count, Math.Min(8, _cloud.Gate.Limit));
        _launcher = new Launcher(_cloud.Backend, _cloud.Gate, pumps, _time, _logger, BuildEnvelope,
            (i, a, at) => Post(new JobEvent(EventKind.Invoked, i, a, At: at)),
            (i, a, e) => Post(new JobEvent(EventKind.InvokeFailed, i, a, e.GetType().Name + ": " + e.Message)));
        await MonitorAsync().ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ launching attempts

    /// <summary>Starts the next attempt of call <paramref name="index"/> (monitor task only).</summary>
    private void Launch(int index, bool speculative = false)
    {
        if (_cancelRequested)
        {
            return;
        }

        CallState state = _state[index];
        int attempt = ++state.Launched;
        state.InvokedAt = null;
        state.StartedAt = null;
        state.Speculated |= speculative;
        _liveAttempts++;
        if (attempt > 1)
        {
            _futures[index].UpdateStats(s => s with { AttemptsStarted = attempt });
        }
        _launcher!.Enqueue(index, attempt);
    }

    /// <summary>The envelope of an attempt, built when its turn comes (launcher pumps, any thread).</summary>
    private InvocationEnvelope? BuildEnvelope(int index, int attempt)
    {
        CallState state = _state[index];
        if (Volatile.Read(ref state.Done) || _cancelRequested || _staging is not { } staging)
        {
            Post(new JobEvent(EventKind.Dropped, index, attempt));
            return null;
        }

        RemoteFunction<T> function = FunctionOf(index);
        bool inline = !staging.Large || staging.Length(index) <= InvocationEnvelope.InlineLimit;
        TimeSpan timeout = TimeoutOf(index);
        return new InvocationEnvelope
        {
            JobId = JobId,
            CallIndex = index,
            FunctionId = function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(function.SignatureHash),
            Assembly = RemoteDispatch.AssemblyOf(function.Id),
            InlineInput = inline ? staging.Arguments(index).ToArray() : null,
            InputRange = inline ? null : new InputRange(StorageLayout.Input(JobId), staging.Offsets[index], staging.Length(index)),
            Attempt = attempt,
            Deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(_cloud.Options.Job.StartTimeoutSeconds) + timeout,
            TimeoutSeconds = (int)Math.Ceiling(timeout.TotalSeconds),
            RetryUserErrors = function.Options.RetryOnException,
            Store = _cloud.Location,
        };
    }

    // ------------------------------------------------------------------ hints and commands (any thread)

    private void Post(JobEvent e) => _events.Writer.TryWrite(e);

    void ICallHints.Started(int callIndex, int attempt) => Post(new JobEvent(EventKind.Started, callIndex, attempt));

    void ICallHints.Finished(int callIndex, int attempt, byte[]? outcome) => Post(new JobEvent(EventKind.Finished, callIndex, attempt, Bytes: outcome));

    void ICallHints.Lost(int callIndex, int attempt, string reason) => Post(new JobEvent(EventKind.Lost, callIndex, attempt, reason));

    /// <summary>Cancels the job; completes once every pending call is marked cancelled (cleanup goes on in the background).</summary>
    public Task CancelAsync()
    {
        Post(new JobEvent(EventKind.Cancel, -1, 0));
        _stop.Cancel();
        return _cancelApplied.Task;
    }

    // ------------------------------------------------------------------ the monitor

    private async Task MonitorAsync()
    {
        for (int i = 0; i < _count; i++)
        {
            Launch(i);
        }

        Trace("launched");
        DateTimeOffset nextSweep = _time.GetUtcNow() + SweepInterval;
        try
        {
            while (_done < _count)
            {
                DateTimeOffset now = _time.GetUtcNow();
                TimeSpan wait = Min(_poller.NextListing, nextSweep) - now;
                if (wait > TimeSpan.Zero && !_events.Reader.TryPeek(out _))
                {
                    using var timer = new CancellationTokenSource(wait, _time);
                    try
                    {
                        await _events.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (timer.IsCancellationRequested)
                    {
                    }
                }

                var reads = new ReadSet();
                bool any = false;
                while (_events.Reader.TryRead(out JobEvent e))
                {
                    any = true;
                    await HandleAsync(e, reads).ConfigureAwait(false);
                }

                if (any)
                {
                    _poller.HintArrived();
                }

                now = _time.GetUtcNow();
                if (_poller.ListingDue(now) && _done < _count && !_cancelRequested)
                {
                    int found = await _poller.ListAsync(_state, reads, OnStarted).ConfigureAwait(false);
                    Trace($"listed: {found} new outcomes, done {_done}");
                    if (_count - _done <= TailSize)
                    {
                        // Listings can lag: read the last pending calls' statuses directly.
                        for (int i = 0; i < _count; i++)
                        {
                            if (!_state[i].Done)
                            {
                                reads.Status.Add(i);
                            }
                        }
                    }
                }

                await ReadAsync(reads).ConfigureAwait(false);

                if (now >= nextSweep && _done < _count && !_cancelRequested)
                {
                    // Every 100 ms, or less often when a sweep of a large job takes long: at most a tenth of the time.
                    long sweepStart = _time.GetTimestamp();
                    await SweepAsync(now).ConfigureAwait(false);
                    TimeSpan took = _time.GetElapsedTime(sweepStart) * 10;
                    nextSweep = now + (took > SweepInterval ? took : SweepInterval);
                }
            }
        }
        catch (Exception e) when (!_cancelRequested)
        {
            // Storage stayed unreachable past Job:StoreRetrySeconds (or the monitor itself broke): fail what is left
            // with one clear error rather than hang.
            Log.JobFailed(_logger, e, JobId, e.Message);
            for (int i = 0; i < _count; i++)
            {
                if (!_state[i].Done)
                {
                    Fail(i, new RemoteException($"Job {JobId} failed: {e.Message}", e.GetType().FullName!, e.StackTrace, JobId, i, _state[i].Launched, e));
                }
            }
        }
        catch (Exception)
        {
            // Cancelled meanwhile: the calls are marked cancelled below.
        }

        if (_cancelRequested)
        {
            Cancel();
        }

        await FinishAsync(staged: true).ConfigureAwait(false);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private async Task HandleAsync(JobEvent e, ReadSet reads)
    {
        if (e.Kind == EventKind.Cancel)
        {
            Cancel();
            return;
        }

        CallState state = _state[e.CallIndex];
        bool current = e.Attempt == state.Launched;
        switch (e.Kind)
        {
            case EventKind.Invoked:
                if (current && !state.Done)
                {
                    // Recorded in the call's stats with its outcome (one stats record per call, not one per event).
                    state.InvokedAt = e.At;
                }

                break;
            case EventKind.Started:
                if (current && !state.Done)
                {
                    OnStarted(e.CallIndex, _time.GetUtcNow());
                }

                break;
            case EventKind.Finished:
                _liveAttempts--;
                if (!state.Done)
                {
                    if (e.Bytes is not null)
                    {
                        // The worker wrote exactly these bytes: no need to read them back.
                        await OnOutcomeAsync(e.CallIndex, e.Bytes, final: null).ConfigureAwait(false);
                    }
                    else
                    {
                        reads.Status.Add(e.CallIndex);
                    }
                }

                break;
            case EventKind.Lost:
                _liveAttempts--;
                if (current && !state.Done)
                {
                    // The worker may have written its outcome before it died: look before retrying.
                    reads.Lost.Add((e.CallIndex, e.Attempt, e.Detail ?? "the worker was lost"));
                }

                break;
            case EventKind.Dropped:
                _liveAttempts--;
                break;
            case EventKind.InvokeFailed:
                _liveAttempts--;
                if (current && !state.Done)
                {
                    Fault(e.CallIndex, "Neutral.InvokeFailed", "the invocation failed: " + e.Detail);
                }

                break;
        }
    }

    /// <summary>The newest attempt of a call started: its deadline counts from now.</summary>
    private void OnStarted(int index, DateTimeOffset now)
    {
        CallState state = _state[index];
        state.InvokedAt ??= now;
        state.StartedAt ??= now;
        if (!state.Running && !state.Done)
        {
            state.Running = true;
            _futures[index].MarkRunning();
            Interlocked.Increment(ref _running);
            PostProgress();
        }
    }

    private async Task ReadAsync(ReadSet reads)
    {
        if (reads.Status.Count > 0)
        {
            var found = await _poller.ReadAsync(reads.Status.Where(i => !_state[i].Done), StorageLayout.Status).ConfigureAwait(false);
            foreach (var (index, bytes) in found)
            {
                if (bytes is not null && !_state[index].Done)
                {
                    await OnOutcomeAsync(index, bytes, final: true).ConfigureAwait(false);
                }
            }
        }

        foreach (var (index, attempt) in reads.Failed)
        {
            if (!_state[index].Done && attempt > _state[index].FailedSeen
                && await _cloud.Jobs.GetAsync(StorageLayout.Failed(JobId, index, attempt)).ConfigureAwait(false) is { } bytes)
            {
                await OnOutcomeAsync(index, bytes, final: false).ConfigureAwait(false);
            }
        }

        foreach (var (index, attempt, reason) in reads.Lost)
        {
            CallState state = _state[index];
            if (state.Done || attempt != state.Launched)
            {
                continue;
            }

            if (await _cloud.Jobs.GetAsync(StorageLayout.Status(JobId, index)).ConfigureAwait(false) is { } status)
            {
                await OnOutcomeAsync(index, status, final: true).ConfigureAwait(false);
            }
            else if (await _cloud.Jobs.GetAsync(StorageLayout.Failed(JobId, index, attempt)).ConfigureAwait(false) is { } failed)
            {
                await OnOutcomeAsync(index, failed, final: false).ConfigureAwait(false);
            }
            else
            {
                Fault(index, "Neutral.WorkerLost", reason);
            }
        }
    }

    /// <summary>A platform fault of the newest attempt: retry while the budget lasts, else fail.</summary>
    private void Fault(int index, string type, string message)
    {
        CallState state = _state[index];
        if (state.Faults < RetriesOf(index) && !_cancelRequested)
        {
            state.Faults++;
            Log.Retrying(_logger, index, JobId, message, state.Launched + 1);
            Launch(index);
            return;
        }

        Fail(index, new RemoteException($"Call {index} of job {JobId} failed after {state.Launched} attempts: {message}", type, null, JobId, index, state.Launched));
    }

    /// <param name="index">The call.</param>
    /// <param name="bytes">The outcome record's bytes.</param>
    /// <param name="final">true for the <c>status</c> object, false for a <c>failed.{a}</c> record, null for a hint's bytes (either).</param>
    private async Task OnOutcomeAsync(int index, byte[] bytes, bool? final)
    {
        CallState state = _state[index];
        DateTimeOffset seen = _time.GetUtcNow();
        StatusRecord record;
        try
        {
            record = WireJson.DeserializeStatus(bytes);
        }
        catch (FormatException e)
        {
            Fail(index, new RemoteException($"The outcome object of call {index} is not valid: {e.Message}", typeof(FormatException).FullName!, null, JobId, index, state.Launched, e));
            return;
        }

        // A hint's bytes are the status when the attempt created it (a success or a final failure), else its failed.{a} record.
        bool isFinal = final ?? (record.Succeeded || !IsRetryable(record, index));
        if (!isFinal)
        {
            state.FailedSeen = Math.Max(state.FailedSeen, record.Attempt);
        }

        switch (StatusInterpreter.Interpret(record, isFinal, state, RetriesOf(index)))
        {
            case StatusAction.Ignore:
                return;
            case StatusAction.Retry:
                state.Faults++;
                Log.Retrying(_logger, index, JobId, $"attempt {record.Attempt} failed ({record.Error?.Type})", state.Launched + 1);
                Launch(index);
                return;
            case StatusAction.Fail:
                RecordStats(index, record, seen);
                RemoteError error = record.Error ?? new RemoteError(RemoteError.PlatformKind, "Neutral.UnknownError", "the status reports a failure without an error", null);
                string message = isFinal || error.Kind == RemoteError.UserKind
                    ? error.Message
                    : $"Call {index} of job {JobId} failed after {state.Launched} attempts: {error.Message}";
                Fail(index, new RemoteException(message, error.Type, error.StackTrace, JobId, index, record.Attempt));
                return;
        }

        byte[]? payload = record.InlineResult;
        if (payload is null && record.OutputKey is not null)
        {
            payload = await _cloud.Jobs.GetAsync(record.OutputKey).ConfigureAwait(false);
        }

        if (payload is null)
        {
            Fail(index, new RemoteException($"The result object '{record.OutputKey}' of call {index} is missing.", "Neutral.OutputMissing", null, JobId, index, record.Attempt));
            return;
        }

        T value;
        try
        {
            value = FunctionOf(index).DecodeResult(payload);
        }
        catch (CodecException e)
        {
            Fail(index, new RemoteException(e.Message, typeof(CodecException).FullName!, null, JobId, index, record.Attempt, e));
            return;
        }

        RecordStats(index, record, seen, _time.GetUtcNow());
        // The run time for the speculation median: from the start seen here, else (the status came in the same listing
        // as its start marker) as the worker measured it.
        _policy.RecordDuration(state.StartedAt is { } started ? seen - started : record.WorkerEnd - record.WorkerStart);

        Volatile.Write(ref state.Done, true);
        if (_futures[index].TrySucceed(value))
        {
            Interlocked.Increment(ref _succeeded);
        }

        Completed(index);
    }

    private bool IsRetryable(StatusRecord record, int index) => record.Error?.Kind switch
    {
        RemoteError.PlatformKind => true,
        RemoteError.UserKind => FunctionOf(index).Options.RetryOnException,
        _ => false,
    };

    private void RecordStats(int index, StatusRecord status, DateTimeOffset seen, DateTimeOffset? fetched = null) =>
        _futures[index].UpdateStats(s => s with
        {
            Invoked = _state[index].InvokedAt ?? s.Invoked,
            ResultFetched = fetched ?? s.ResultFetched,
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

    private void Fail(int index, RemoteException error)
    {
        CallState state = _state[index];
        if (state.Done)
        {
            return;
        }

        Volatile.Write(ref state.Done, true);
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
        PostProgress();
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

    /// <summary>Deadlines, attempts that never started, and speculative backups.</summary>
    private async Task SweepAsync(DateTimeOffset now)
    {
        List<(int Index, AttemptVerdict Verdict)>? overdue = null;
        for (int i = 0; i < _count; i++)
        {
            CallState state = _state[i];
            if (state.Done)
            {
                continue;
            }

            AttemptVerdict verdict = _policy.Judge(state, TimeoutOf(i), now, _done, _count);
            switch (verdict)
            {
                case AttemptVerdict.NeverStarted:
                case AttemptVerdict.PastDeadline:
                    (overdue ??= []).Add((i, verdict));
                    break;
                case AttemptVerdict.Backup:
                    Trace($"speculating call {i}");
                    Launch(i, speculative: true);
                    break;
            }
        }

        if (overdue is null)
        {
            return;
        }

        // The outcome may be there after all: read it before calling the attempt lost.
        var found = await _poller.ReadAsync(overdue.Select(o => o.Index), StorageLayout.Status).ConfigureAwait(false);
        foreach (var (index, bytes) in found)
        {
            if (bytes is not null && !_state[index].Done)
            {
                await OnOutcomeAsync(index, bytes, final: true).ConfigureAwait(false);
            }
        }

        List<(int Index, int Attempt, AttemptVerdict Verdict)>? lost = null;
        foreach (var (index, verdict) in overdue)
        {
            CallState state = _state[index];
            if (state.Done)
            {
                continue;
            }

            if (await _cloud.Jobs.GetAsync(StorageLayout.Failed(JobId, index, state.Launched)).ConfigureAwait(false) is { } failed)
            {
                await OnOutcomeAsync(index, failed, final: false).ConfigureAwait(false);
                continue;
            }

            (lost ??= []).Add((index, state.Launched, verdict));
        }

        if (lost is null)
        {
            return;
        }

        string?[] explanations = await ExplainAsync(lost).ConfigureAwait(false);
        for (int k = 0; k < lost.Count; k++)
        {
            var (index, attempt, verdict) = lost[k];
            if (_state[index].Done || _state[index].Launched != attempt)
            {
                continue;
            }

            string because = explanations[k] is { } platform ? "; " + platform : "";
            if (verdict == AttemptVerdict.NeverStarted)
            {
                Fault(index, "Neutral.NeverStarted", $"attempt {attempt} was accepted but did not start within {_cloud.Options.Job.StartTimeoutSeconds} s (Job:StartTimeoutSeconds){because}");
            }
            else
            {
                Fault(index, typeof(TimeoutException).FullName!, $"no status by the attempt's deadline ({TimeoutOf(index).TotalSeconds:0.#} s){because}");
            }
        }
    }

    /// <summary>What a deployed backend's platform recorded about overdue attempts (none from other backends), in parallel and bounded in time.</summary>
    private async Task<string?[]> ExplainAsync(List<(int Index, int Attempt, AttemptVerdict Verdict)> lost)
    {
        var explanations = new string?[lost.Count];
        if (_cloud.Backend is not IDeployedComputeBackend deployed)
        {
            return explanations;
        }

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        await Parallel.ForAsync(0, lost.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = CancellationToken.None }, async (k, _) =>
        {
            try
            {
                explanations[k] = await deployed.ExplainAttemptAsync(JobId, lost[k].Index, lost[k].Attempt, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Trace($"no explanation for call {lost[k].Index}: {e.Message}");
            }
        }).ConfigureAwait(false);
        return explanations;
    }

    private void Cancel()
    {
        if (!_cancelRequested)
        {
            _cancelRequested = true;
            _launcher?.Stop();
            if (_cloud.Backend is ICancellingComputeBackend canceller)
            {
                _ = canceller.CancelJobAsync(JobId).AsTask().ContinueWith(t => Log.BackendCancelFailed(_logger, t.Exception, JobId), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }

        for (int i = 0; i < _count; i++)
        {
            if (!_state[i].Done && _futures[i].TryCancel())
            {
                Volatile.Write(ref _state[i].Done, true);
                Interlocked.Increment(ref _cancelled);
                Completed(i);
            }
        }

        _cancelApplied.TrySetResult();
    }

    private void Trace(string what)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Milestone(_logger, JobId, Math.Round((_time.GetUtcNow() - _submitted).TotalMilliseconds, 1), what);
        }
    }

    private async Task FinishAsync(bool staged)
    {
        Trace("all calls done");
        _cancelApplied.TrySetResult();
        _launcher?.Stop();
        try
        {
            if (!_cloud.Options.Job.KeepData)
            {
                // Give attempts still running (speculative losers, cancelled calls) a moment to end, so that they do
                // not write into a deleted job; a backend that reports every attempt tells us when they have.
                if (_hintSubscription is not null && _cloud.Backend is IHintingComputeBackend { ReportsEveryAttempt: true })
                {
                    DateTimeOffset until = _time.GetUtcNow() + TimeSpan.FromSeconds(2);
                    while (_liveAttempts > 0 && _time.GetUtcNow() < until)
                    {
                        while (_events.Reader.TryRead(out JobEvent e))
                        {
                            if (e.Kind is EventKind.Finished or EventKind.Lost or EventKind.InvokeFailed or EventKind.Dropped)
                            {
                                _liveAttempts--;
                            }
                        }

                        await Task.Delay(TimeSpan.FromMilliseconds(10), _time).ConfigureAwait(false);
                    }
                }

                Trace("in flight at cleanup: " + _liveAttempts);
                await _cloud.Cleanup.DeleteJobAsync(JobId, lateWriters: _liveAttempts > 0 || _hintSubscription is null).ConfigureAwait(false);
                Trace("deleted");
            }
        }
        catch (Exception e)
        {
            // Leftover job data is harmless: the sweep at a later Connect removes it.
            Log.CleanupFailed(_logger, e, JobId, e.Message);
        }
        finally
        {
            _hintSubscription?.Dispose();
            (_cloud.Backend as IDeployedComputeBackend)?.ForgetJob(JobId);
            _finished.TrySetResult();
        }
    }

    // ------------------------------------------------------------------ waiting

    public Task WaitAsync(ReturnWhen when, CancellationToken cancellationToken)
    {
        int needed = when.Needed(_count);
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

    private enum EventKind
    {
        Invoked,
        InvokeFailed,
        Dropped,
        Started,
        Finished,
        Lost,
        Cancel,
    }

    private readonly record struct JobEvent(EventKind Kind, int CallIndex, int Attempt, string? Detail = null, byte[]? Bytes = null, DateTimeOffset At = default);
}
