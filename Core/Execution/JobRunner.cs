using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Execution;

/// <summary>
/// Runs one job to completion: a loop that owns every call's state, takes events (accepted and failed invokes from the
/// <see cref="Launcher"/>, the backend's hints, cancellation) and hands the work to parts with one job each:
/// <see cref="JobStaging"/> (arguments packed and written), <see cref="EnvelopeFactory"/> (per-call options and
/// envelopes), <see cref="EventApplier"/> (events applied to their calls), <see cref="CallLedger"/> (state, counters,
/// waiters), <see cref="StatusPoller"/> (listings), <see cref="OutcomeReader"/> (outcomes read, results decoded),
/// <see cref="AttemptSweeper"/> (deadlines, lost and backup attempts), <see cref="ProgressDispatcher"/> (progress off
/// this loop) and <see cref="JobCleanup"/>. Only the <see cref="IResultSink"/> is typed.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213", Justification = "Stopped, not disposed: pumps may still observe it.")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop source lives as long as the job; cancelling it is all it needs.")]
internal sealed partial class JobRunner
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(100);

    private readonly CloudContext _cloud;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IResultSink _sink;
    private readonly CallLedger _ledger;
    private readonly EnvelopeFactory _envelopes;
    private readonly AttemptStarter _attempts;
    private readonly StatusPoller _poller;
    private readonly OutcomeReader _outcomes;
    private readonly BatchSizer _sizer;
    private readonly AttemptSweeper _sweeper;
    private readonly EventApplier _applier;
    private readonly JobEvents _events = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Activity? _span;
    private readonly TaskCompletionSource _cancelApplied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly DateTimeOffset _submitted;
    private Launcher? _launcher;
    private int _launchers;
    private readonly InputGate? _inputs;

    /// <summary>Invocations one launcher call has in flight at most (<c>Job:InvokeFrom=cloud</c>; no more than <c>Job:InvokeConcurrency</c>).</summary>
    internal const int LaunchConcurrency = 32;
    private IDisposable? _hintSubscription;

    private JobRunner(CloudContext cloud, string jobId, DateTimeOffset submitted, IResultSink sink, InputGate? inputs)
    {
        _inputs = inputs;
        // A result left in storage for the calls that read it (the job feeds others) is read when the application asks.
        sink.Loader = key => cloud.Jobs.GetAsync(key);
        _cloud = cloud;
        _time = cloud.Time;
        _logger = cloud.Logger;
        _submitted = submitted;
        JobId = jobId;
        _sink = sink;
        Progress = new ProgressDispatcher(_logger, () => Snapshot);
        _ledger = new CallLedger(sink, Progress.Changed);
        _envelopes = new EnvelopeFactory(jobId, sink, cloud, inputs);
        _poller = new StatusPoller(cloud.Jobs, jobId, hinted: cloud.Backend is IHintingComputeBackend, _time, TimeSpan.FromSeconds(cloud.Options.Job.StoreRetrySeconds));
        _attempts = new AttemptStarter(jobId, _ledger, sink, _envelopes, _poller.Slots, _logger);
        bool answersForQueue = cloud.Backend is IHintingComputeBackend { ReportsEveryAttempt: true };
        // The local pool splits a batch into its calls (no invocation fee, no cold start): nothing to choose there.
        _sizer = new BatchSizer(cloud.Backend is Local.LocalComputeBackend && cloud.Options.Job.CallsPerInvocation == JobOptions.AutomaticCallsPerInvocation
            ? 1 : cloud.Options.Job.CallsPerInvocation, sink.Count, _time);
        var policy = new AttemptPolicy(StartBound(cloud), answersForQueue, cloud.Options.Job.Speculation) { Sizer = _sizer };
        _outcomes = new OutcomeReader(jobId, _ledger, sink, _envelopes, policy, _poller, cloud.Jobs, _time, _attempts);
        _sweeper = new AttemptSweeper(jobId, _ledger, _envelopes, policy, _outcomes, cloud.Backend, _time, cloud.Options.Job.StartTimeoutSeconds, _attempts, _poller.Slots, Trace);
        _applier = new EventApplier(_ledger, _outcomes, _attempts, _poller, _time);
    }

    /// <summary>
    /// How long an accepted attempt may take to start: <c>Job:StartTimeoutSeconds</c>, twice that when launched from
    /// the cloud. An attempt behind others in its invocation's batch may start later still, by their timeouts
    /// (<see cref="AttemptPolicy"/> adds them by its place).
    /// </summary>
    private static TimeSpan StartBound(CloudContext cloud)
    {
        TimeSpan bound = TimeSpan.FromSeconds(cloud.Options.Job.StartTimeoutSeconds);
        if (cloud.Options.Job.InvokeFrom == "cloud")
        {
            // A launcher call must start, then send its attempts (throttled, perhaps): twice the bound, and the launcher
            // stops sending before that (LaunchDeadline).
            bound *= 2;
        }

        return bound;
    }

    /// <summary>A runner for <paramref name="calls"/>, and the typed futures it completes.</summary>
    /// <exception cref="ArgumentException">A call's input is not a future of this cloud, or its data is gone.</exception>
    public static (JobRunner Runner, ResultSink<T> Results) Create<T>(CloudContext cloud, RemoteCall<T>[] calls)
    {
        DateTimeOffset submitted = cloud.Time.GetUtcNow();
        string jobId = JobCleanup.NewId(submitted);
        InputGate? inputs = InputGate.Create(cloud, calls);
        var results = new ResultSink<T>(jobId, calls, submitted, new JobHolds(cloud));
        return (new JobRunner(cloud, jobId, submitted, results, inputs), results);
    }

    public string JobId { get; }

    /// <summary>The job's progress events, raised off this loop.</summary>
    public ProgressDispatcher Progress { get; }

    /// <summary>Completes when every call has an outcome and the job's data is cleaned.</summary>
    public Task Finished => _finished.Task;

    public JobProgress Snapshot => _ledger.Snapshot;

    /// <summary>The most calls counted running at once (tests).</summary>
    internal int PeakRunning => _ledger.PeakRunning;

    /// <summary>What the job used so far, from its calls' stats.</summary>
    public JobUsage Usage => _sink.Usage();

    /// <summary>The backend's price for <see cref="Usage"/>; 0 for a backend without prices (the local one).</summary>
    public decimal EstimatedCost => _cloud.Backend is IPricedComputeBackend priced ? priced.EstimateCost(Usage) : 0m;

    public Task WaitAsync(ReturnWhen when, CancellationToken cancellationToken) => _ledger.WaitAsync(when, cancellationToken);

    /// <summary>Starts the job: returns at once; staging, launching and monitoring run in the background.</summary>
    public void Start()
    {
        if (_attached)
        {
            _span = Telemetry.StartJob(JobId, _ledger.Count, _sink.First.Id);
            _ = Task.Run(RunAttachedAsync, CancellationToken.None);
            return;
        }

        _span = Telemetry.StartJob(JobId, _ledger.Count, _sink.Count > 0 ? _sink.First.Id : "");
        _envelopes.TraceParent = _span?.Id;
        if (_ledger.Count == 0)
        {
            _cancelApplied.TrySetResult();
            _span?.Stop();
            _finished.TrySetResult();
            _completion.TrySetResult();
            return;
        }

        _ = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>What <see cref="RemoteJob{T}.Completion"/> awaits: the job ended and cleaned up, unless interrupted.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Marks a job that is never started (submitted while the process ends on a signal): nothing of it completes.</summary>
    public void Interrupt() => _ledger.Interrupted = true;

    /// <summary>
    /// Cancels the job as the process ends on a signal: as <see cref="CancelAsync"/>, but the futures are left pending
    /// (<see cref="CallLedger.Interrupted"/>).
    /// </summary>
    public Task InterruptAsync()
    {
        _ledger.Interrupted = true;
        return CancelAsync();
    }

    /// <summary>Cancels the job; completes once every pending call is marked cancelled (cleanup goes on in the background).</summary>
    public Task CancelAsync()
    {
        _events.Post(new JobEvent(JobEventKind.Cancel, -1, 0));
        _stop.Cancel();
        return _cancelApplied.Task;
    }

    private async Task RunAsync()
    {
        string phase = "start";
        try
        {
            await JobStaging.VerifyDeploymentAsync(_cloud, _sink, _stop.Token).ConfigureAwait(false);
            phase = "be staged";
            using (Activity? stage = _span is null ? null : Telemetry.Source.StartActivity("neutral.stage", ActivityKind.Internal, _span.Context))
            {
                _envelopes.Staging = await JobStaging.StageAsync(_cloud, _sink, JobId, _submitted, _inputs is not null, _stop.Token).ConfigureAwait(false);
            }

            // Generation 0 of the job's lease: this client drives the job, and says so while it runs (JobLease).
            _lease = new JobLease(_cloud, JobId);
            await _lease.CreateAsync(_stop.Token).ConfigureAwait(false);

            Trace("staged");
        }
        catch (Exception e)
        {
            // Cancelled while staging, or the store refused the job: every call ends now.
            _sink.Release();
            if (_stop.IsCancellationRequested)
            {
                Cancel(); // before a single call was invoked: every call is cancelled
            }

            _ledger.FailPending(i => new RemoteException($"Job {JobId} could not {phase}: {e.Message}", e.GetType().FullName!, null, JobId, i, 0, e));

            await FinishAsync().ConfigureAwait(false);
            return;
        }

        SubscribeToHints();
        CreateLauncher();
        await MonitorAsync(launchAll: true).ConfigureAwait(false);
    }

    private void SubscribeToHints()
    {
        if (_hintSubscription is null && _cloud.Backend is IHintingComputeBackend hinting)
        {
            _hintSubscription = hinting.Subscribe(JobId, _events);
        }
    }

    /// <summary>The launcher this client sends attempts with (a new one each time it comes to drive the job).</summary>
    private void CreateLauncher()
    {
        // One pump per place in the cloud's gate (Job:InvokeConcurrency), so that one job can fill it: each pump has one
        // invoke in flight, and a client 100 ms from its region sent only 80 a second with eight. Never a task per call.
        int pumps = Math.Min(_ledger.Count, _cloud.Gate.Limit);
        _launcher = new Launcher(_cloud.Backend, _cloud.Gate, pumps, _time, _logger, BuildEnvelope,
            (i, a, slot, position, at) => _events.Post(new JobEvent(JobEventKind.Invoked, i, a, At: at, Slot: slot, Position: position)),
            (i, a, e) => _events.Post(new JobEvent(JobEventKind.InvokeFailed, i, a, e.GetType().Name + ": " + e.Message)), _sizer,
            _cloud.Options.Job.InvokeFrom == "cloud" ? StageLaunchAsync : null);
        _attempts.Launcher = _launcher;
    }

    /// <summary>
    /// Writes a group of envelopes as a launch list (<c>Job:InvokeFrom=cloud</c>) and returns the launcher call that
    /// invokes them from inside the platform, until <see cref="LaunchDeadline"/> (the client launches what is left again).
    /// </summary>
    private async Task<InvocationEnvelope> StageLaunchAsync(IReadOnlyList<InvocationEnvelope> group, CancellationToken cancellationToken)
    {
        int launcher = Interlocked.Increment(ref _launchers);
        string key = StorageLayout.Launch(JobId, launcher);
        await _cloud.Jobs.PutAsync(key, LaunchList.Encode(group), cancellationToken).ConfigureAwait(false);
        return new InvocationEnvelope
        {
            JobId = JobId,
            CallIndex = -1,
            Attempt = launcher,
            FunctionId = CallRunner.LaunchFunctionId,
            SignatureHash = InvocationEnvelope.FormatHash(LaunchList.SignatureHash),
            InlineInput = LaunchList.Argument(key, Math.Min(LaunchConcurrency, _cloud.Options.Job.InvokeConcurrency)),
            Deadline = _time.GetUtcNow() + LaunchDeadline(_cloud.Options.Job.StartTimeoutSeconds),
            Store = _cloud.Location,
            TraceParent = _envelopes.TraceParent,
        };
    }

    /// <summary>
    /// How long after it is invoked a launcher call may send attempts: until a little before their start bound (twice
    /// <c>Job:StartTimeoutSeconds</c>), so that what it could not send is recorded as not run before the client would
    /// judge it lost.
    /// </summary>
    internal static TimeSpan LaunchDeadline(int startTimeoutSeconds) =>
        TimeSpan.FromSeconds(2 * startTimeoutSeconds - Math.Min(10, startTimeoutSeconds / 2.0));

    /// <summary>The envelope of an attempt, built when its turn comes (launcher pumps, any thread).</summary>
    private InvocationEnvelope? BuildEnvelope(int index, int attempt, int slot)
    {
        InvocationEnvelope? envelope = Volatile.Read(ref _ledger[index].Done) || _attempts.Stopped ? null : _envelopes.Build(index, attempt, slot);
        if (envelope is null)
        {
            _events.Post(new JobEvent(JobEventKind.Dropped, index, attempt));
        }

        return envelope;
    }

    private async Task MonitorAsync(bool launchAll)
    {
        if (launchAll)
        {
            for (int i = 0; i < _ledger.Count; i++)
            {
                // A call that takes other calls' results waits for them (InputsReady).
                if (_inputs is null || !_inputs.Holds(i))
                {
                    _attempts.Launch(i);
                }
            }

            _inputs?.Watch(i => _events.Post(new JobEvent(JobEventKind.InputsReady, i, 0)));
            _launcher!.Start();
            Trace("launched");
        }

        DateTimeOffset nextSweep = _time.GetUtcNow() + SweepInterval;
        bool abandoned = false;
        try
        {
            while (!_ledger.AllDone && !abandoned)
            {
                DateTimeOffset now = _time.GetUtcNow();
                DateTimeOffset due = _observer ? _nextObservation : _poller.NextListing < nextSweep ? _poller.NextListing : nextSweep;
                if (_lease is not null && _lease.NextCheck < due)
                {
                    due = _lease.NextCheck;
                }

                TimeSpan wait = due - now;
                if (wait > TimeSpan.Zero && !_events.Waiting)
                {
                    await _events.WaitAsync(wait, _time).ConfigureAwait(false);
                }

                var reads = new ReadSet();
                bool any = false;
                while (_events.TryRead(out JobEvent e))
                {
                    any = true;
                    if (e.Kind == JobEventKind.Cancel)
                    {
                        Cancel();
                    }
                    else if (e.Kind == JobEventKind.InputsReady)
                    {
                        InputsReady(e.CallIndex);
                    }
                    else if (e.Kind == JobEventKind.Abandon)
                    {
                        abandoned = true;
                    }
                    else
                    {
                        await _applier.ApplyAsync(e, reads).ConfigureAwait(false);
                    }
                }

                if (any)
                {
                    _poller.HintArrived();
                }

                if (_lease is not null && _time.GetUtcNow() >= _lease.NextCheck)
                {
                    await LeaseTickAsync().ConfigureAwait(false);
                }

                if (_observer)
                {
                    // Attached without driving: the whole slot folder is listed now and then, nothing launched.
                    if (_time.GetUtcNow() >= _nextObservation)
                    {
                        await ObserveAsync(reads).ConfigureAwait(false);
                    }

                    await _outcomes.ReadAsync(reads).ConfigureAwait(false);
                    EndObservedIfEnded();
                    continue;
                }

                _poller.SentUpTo(_launcher!.SentSlot);

                now = _time.GetUtcNow();
                if (_poller.ListingDue(now) && !_ledger.AllDone && !_attempts.Stopped)
                {
                    int found = await _poller.ListAsync(_ledger.States, reads, _ledger.Count - _ledger.Done).ConfigureAwait(false);
                    Trace($"listed: {found} new outcomes, done {_ledger.Done}");
                }

                if (abandoned)
                {
                    break;
                }

                await _outcomes.ReadAsync(reads).ConfigureAwait(false);
                if (now >= nextSweep && !_ledger.AllDone && !_attempts.Stopped)
                {
                    // Every 100 ms, or less often when a sweep of a large job takes long: at most a tenth of the time.
                    long sweepStart = _time.GetTimestamp();
                    await _sweeper.SweepAsync(now).ConfigureAwait(false);
                    TimeSpan took = _time.GetElapsedTime(sweepStart) * 10;
                    nextSweep = now + (took > SweepInterval ? took : SweepInterval);
                }
            }
        }
        catch (Exception e) when (!_attempts.Stopped)
        {
            // Storage stayed unreachable past Job:StoreRetrySeconds (one call's unreadable object faults that call
            // alone): fail what is left with one clear error rather than hang.
            Log.JobFailed(_logger, e, JobId, e.Message);
            _ledger.FailPending(i => new RemoteException($"Job {JobId} failed: {e.Message}", e.GetType().FullName!, e.StackTrace, JobId, i, _ledger[i].Launched, e));
        }
        catch (Exception)
        {
            // Cancelled meanwhile: the calls are marked cancelled below.
        }

        if (abandoned)
        {
            // As a killed client: nothing more is written, nothing cleaned; only this process stops waiting for the job.
            _attempts.Stopped = true;
            _launcher?.Stop();
            _hintSubscription?.Dispose();
            _finished.TrySetResult();
            return;
        }

        if (_attempts.Stopped)
        {
            Cancel();
        }

        await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>Launches a call whose inputs all succeeded, or fails it naming the input that did not.</summary>
    private void InputsReady(int index)
    {
        if (_ledger[index].Done || _attempts.Stopped)
        {
            return;
        }

        if (_inputs!.Check(JobId, index) is { } failure)
        {
            _ledger.Fail(index, failure);
        }
        else
        {
            _attempts.Launch(index);
        }
    }

    private void Cancel()
    {
        if (!_attempts.Stopped)
        {
            _attempts.Stopped = true;
            _launcher?.Stop();
            // A client attached without driving cancels only its own view: the job goes on for its driver.
            if (_cloud.Backend is ICancellingComputeBackend canceller && _lease is not { Held: false })
            {
                _ = canceller.CancelJobAsync(JobId).AsTask().ContinueWith(t => Log.BackendCancelFailed(_logger, t.Exception, JobId), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }

        _ledger.CancelPending();
        _cancelApplied.TrySetResult();
    }

    private void Trace(string what)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Milestone(_logger, JobId, Math.Round((_time.GetUtcNow() - _submitted).TotalMilliseconds, 1), what);
        }
    }

    private async Task FinishAsync()
    {
        Trace("all calls done");
        _cancelApplied.TrySetResult();
        _launcher?.Stop();
        // Every call has an outcome: the jobs whose results they took may go (an attempt still running may fail to
        // read its inputs, and nothing waits for what it writes).
        _inputs?.Release();
        using var finishing = new CancellationTokenSource();
        Task renewing = _lease is { Held: true } && !_ledger.Interrupted ? RenewWhileFinishingAsync(finishing.Token) : Task.CompletedTask;
        try
        {
            // Attempts still running (speculative losers, cancelled calls) get a moment to end before the delete, so that
            // they do not write into a deleted job; a backend that reports every attempt tells us when they have.
            bool reported = _hintSubscription is not null && _cloud.Backend is IHintingComputeBackend { ReportsEveryAttempt: true };
            if (_lease is { Held: false })
            {
                // Attached to a job another client drives: that client keeps and cleans its data.
                await DetachAsync().ConfigureAwait(false);
                return;
            }

            if (!_ledger.Interrupted && !_ledger.FailedAsAWhole)
            {
                await KeptFailures.WriteAsync(_cloud, JobId, _envelopes, _ledger.Failures).ConfigureAwait(false);
            }

            if (!_ledger.Interrupted)
            {
                await ReleaseAttachedAsync().ConfigureAwait(false);
            }

            // The calls that take this job's results hold its data until they end (or the cloud is disposed).
            if (_sink.Holds.Count > 0)
            {
                Trace("waiting for the calls that read its results");
            }

            await _sink.Holds.CloseAsync(_cloud.Disposing).ConfigureAwait(false);

            // Renewals end before the delete: one still being written would put the lease back into the deleted job.
            await finishing.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            await _cloud.Cleanup.FinishJobAsync(JobId, () => reported ? _events.DrainAsync(_attempts.Live, _time, TimeSpan.FromSeconds(2)) : Task.FromResult(_attempts.Live),
                tracked: _hintSubscription is not null).ConfigureAwait(false);
            Trace("cleaned up");
        }
        finally
        {
            await finishing.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            _hintSubscription?.Dispose();
            (_cloud.Backend as IDeployedComputeBackend)?.ForgetJob(JobId);
            if (_span is not null)
            {
                JobProgress end = _ledger.Snapshot;
                _span.SetTag("neutral.job.succeeded", end.Succeeded).SetTag("neutral.job.failed", end.Failed).SetTag("neutral.job.cancelled", end.Cancelled);
                _span.SetStatus(end.Failed > 0 ? ActivityStatusCode.Error : ActivityStatusCode.Ok);
                _span.Stop();
            }

            _finished.TrySetResult();
            if (!_ledger.Interrupted)
            {
                _completion.TrySetResult();
            }
        }
    }
}
