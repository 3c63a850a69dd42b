using System;
using Microsoft.Extensions.Logging;

namespace Neutral.Execution;

/// <summary>
/// Starts attempts and spends each call's retry budget: a new attempt of a call (first, retry or speculative backup)
/// goes to the <see cref="Launcher"/>; a platform fault launches the next attempt while the budget lasts and fails the
/// call once it is spent. Counts the attempts in flight, for the drain before cleanup. Monitor task only.
/// </summary>
internal sealed class AttemptStarter
{
    private readonly string _jobId;
    private readonly CallLedger _ledger;
    private readonly IResultSink _sink;
    private readonly EnvelopeFactory _calls;
    private readonly ILogger _logger;

    private readonly CompletionSlots _slots;

    public AttemptStarter(string jobId, CallLedger ledger, IResultSink sink, EnvelopeFactory calls, CompletionSlots slots, ILogger logger)
    {
        _slots = slots;
        _jobId = jobId;
        _ledger = ledger;
        _sink = sink;
        _calls = calls;
        _logger = logger;
    }

    /// <summary>Where attempts go, once the job is staged.</summary>
    public Launcher? Launcher { get; set; }

    /// <summary>No more attempts: the job is cancelled.</summary>
    public bool Stopped { get; set; }

    /// <summary>
    /// This client is attached to the job without driving it (<see cref="JobLease"/>): it launches nothing, and retries
    /// only count against the budget, for when it takes the job over.
    /// </summary>
    public bool Passive { get; set; }

    /// <summary>Attempts launched and not yet ended.</summary>
    public int Live { get; private set; }

    /// <summary>An attempt in flight ended (answered, lost, refused or dropped).</summary>
    public void Ended() => Live--;

    /// <summary>Starts the next attempt of call <paramref name="index"/>.</summary>
    public void Launch(int index, bool speculative = false)
    {
        if (Stopped || Passive)
        {
            return;
        }

        CallState state = _ledger[index];
        int attempt = ++state.Launched;
        state.InvokedAt = null;
        state.StartedAt = null;
        state.Position = 0;
        state.Speculated |= speculative;
        Live++;
        if (speculative)
        {
            Telemetry.SpeculativeBackups.Add(1);
        }
        if (attempt % JobLease.AttemptEpoch > 1)
        {
            // Counted within the lease's generation: a job taken over numbers its attempts from 1001, 2001, ...
            _sink.Records.AttemptStarted(index, attempt % JobLease.AttemptEpoch);
        }

        state.Slot = _slots.Assign(index);
        Launcher!.Enqueue(index, attempt, state.Slot);
    }

    /// <summary>A platform fault of call <paramref name="index"/>'s newest attempt: retry while the budget lasts, else fail.</summary>
    public void Fault(int index, string type, string message)
    {
        CallState state = _ledger[index];
        if (state.Done)
        {
            return;
        }

        if (state.Faults < _calls.RetriesOf(index) && !Stopped)
        {
            state.Faults++;
            Log.Retrying(_logger, index, _jobId, message, state.Launched + 1);
            Telemetry.Retries.Add(1);
            Launch(index);
            return;
        }

        _ledger.Fail(index, new RemoteException($"Call {index} of job {_jobId} failed after {state.Launched} attempts: {message}", type, null, _jobId, index, state.Launched));
    }

    /// <summary>A retryable failure that a worker recorded: counted against the budget, and the next attempt launched.</summary>
    public void Retry(int index, string reason)
    {
        CallState state = _ledger[index];
        state.Faults++;
        Log.Retrying(_logger, index, _jobId, reason, state.Launched + 1);
        if (!Stopped)
        {
            Telemetry.Retries.Add(1);
        }

        Launch(index);
    }
}
