using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Turns what storage holds for a call into its end or its next attempt: the outcome record read and interpreted
/// (<see cref="StatusInterpreter"/>), a large result fetched, the result decoded into the call's future, its stats
/// recorded. A read or decode that fails (other than the store staying down, which ends the job) faults that call's
/// attempt alone, retried while its budget lasts: one bad object never fails the other calls.
/// </summary>
internal sealed class OutcomeReader
{
    private readonly string _jobId;
    private readonly CallLedger _ledger;
    private readonly IResultSink _sink;
    private readonly EnvelopeFactory _calls;
    private readonly AttemptPolicy _policy;
    private readonly StatusPoller _poller;
    private readonly IObjectStore _jobs;
    private readonly TimeProvider _time;
    private readonly AttemptStarter _attempts;

    public OutcomeReader(string jobId, CallLedger ledger, IResultSink sink, EnvelopeFactory calls, AttemptPolicy policy, StatusPoller poller,
        IObjectStore jobs, TimeProvider time, AttemptStarter attempts)
    {
        _jobId = jobId;
        _ledger = ledger;
        _sink = sink;
        _calls = calls;
        _policy = policy;
        _poller = poller;
        _jobs = jobs;
        _time = time;
        _attempts = attempts;
    }

    /// <summary>Reads what a round of events and a listing asked for: statuses, <c>failed.{a}</c> records, lost attempts.</summary>
    public async Task ReadAsync(ReadSet reads)
    {
        if (reads.Status.Count > 0)
        {
            var pending = new List<int>(reads.Status.Count);
            foreach (int index in reads.Status)
            {
                if (_ledger[index].Done)
                {
                    continue;
                }

                if (reads.Carried.TryGetValue(index, out StatusRecord? carried))
                {
                    await ApplyAsync(index, carried, final: true).ConfigureAwait(false);
                }
                else
                {
                    pending.Add(index);
                }
            }

            await ApplyStatusesAsync(pending).ConfigureAwait(false);
        }

        foreach (var (index, attempt) in reads.Failed)
        {
            if (!_ledger[index].Done && attempt > _ledger[index].FailedSeen
                && await ReadOneAsync(index, StorageLayout.Failed(_jobId, index, attempt)).ConfigureAwait(false) is { } bytes)
            {
                await ApplyAsync(index, bytes, final: false).ConfigureAwait(false);
            }
        }

        foreach (var (index, attempt, reason) in reads.Lost)
        {
            CallState state = _ledger[index];
            if (state.Done || attempt != state.Launched)
            {
                continue;
            }

            // The worker may have written its outcome before it was lost: look before retrying.
            if (await ReadOneAsync(index, StorageLayout.Status(_jobId, index)).ConfigureAwait(false) is { } status)
            {
                await ApplyAsync(index, status, final: true).ConfigureAwait(false);
            }
            else if (!state.Done && await ReadOneAsync(index, StorageLayout.Failed(_jobId, index, attempt)).ConfigureAwait(false) is { } failed)
            {
                await ApplyAsync(index, failed, final: false).ConfigureAwait(false);
            }
            else if (!state.Done && state.Launched == attempt)
            {
                // A worker killed at its deadline is a timeout, named as one; any other loss is the worker's.
                _attempts.Fault(index, reason.StartsWith(Local.WorkerProcess.PastTimeout, StringComparison.Ordinal) ? typeof(TimeoutException).FullName! : "Neutral.WorkerLost", reason);
            }
        }

        // Starts last: a call that ended in this poll is no longer running when the next call of its worker starts.
        foreach (var (index, attempt, at) in reads.Started)
        {
            if (!_ledger[index].Done && attempt == _ledger[index].Launched)
            {
                _ledger.Started(index, at);
            }
        }
    }

    /// <summary>
    /// Reads the statuses of <paramref name="indices"/> (<see cref="StatusPoller.ReadConcurrency"/> at a time), each with
    /// its result object when it has one, and applies each found as it arrives: no round trip waits on another.
    /// </summary>
    public async Task ApplyStatusesAsync(IEnumerable<int> indices)
    {
        await foreach (StatusRead read in StatusPoller.ReadAsync(indices, ReadStatusAsync).ConfigureAwait(false))
        {
            int index = read.Index;
            if (_ledger[index].Done)
            {
                continue;
            }

            if (read.Error is not null)
            {
                Unreadable(index, read.What, read.Error);
            }
            else if (read.Invalid is { } invalid)
            {
                Invalid(index, invalid);
            }
            else if (read.Record is { } record)
            {
                await ApplyAsync(index, record, final: true, read.Output).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A status as read off the monitor: the record and its result object, or what went wrong.</summary>
    private sealed record StatusRead(int Index, StatusRecord? Record, byte[]? Output, string What, Exception? Error, FormatException? Invalid);

    /// <summary>Reads call <paramref name="index"/>'s status and, for a success with a result object, that object (any thread).</summary>
    private async Task<StatusRead> ReadStatusAsync(int index)
    {
        string what = "status";
        try
        {
            byte[]? bytes = await _jobs.GetAsync(StorageLayout.Status(_jobId, index)).ConfigureAwait(false);
            if (bytes is null)
            {
                return new StatusRead(index, null, null, what, null, null);
            }

            StatusRecord record;
            try
            {
                record = WireJson.DeserializeStatus(bytes);
            }
            catch (FormatException e)
            {
                return new StatusRead(index, null, null, what, null, e);
            }

            byte[]? output = null;
            if (record.Succeeded && record.InlineResult is null && record.OutputKey is { } key && !_sink.Holds.Feeding)
            {
                what = key;
                output = await _jobs.GetAsync(key).ConfigureAwait(false);
            }

            return new StatusRead(index, record, output, what, null, null);
        }
        catch (Exception e) when (e is not StoreUnavailableException and not OperationCanceledException)
        {
            return new StatusRead(index, null, null, what, e, null);
        }
    }

    /// <summary>Reads one of call <paramref name="index"/>'s objects; a failure faults the call and reads as null.</summary>
    public async Task<byte[]?> ReadOneAsync(int index, string key) => (await TryReadAsync(index, key).ConfigureAwait(false)).Bytes;

    private async Task<(byte[]? Bytes, bool Failed)> TryReadAsync(int index, string key)
    {
        try
        {
            return (await _jobs.GetAsync(key).ConfigureAwait(false), false);
        }
        catch (Exception e) when (e is not StoreUnavailableException and not OperationCanceledException)
        {
            Unreadable(index, key, e);
            return (null, true);
        }
    }

    /// <param name="index">The call.</param>
    /// <param name="bytes">The outcome record's bytes.</param>
    /// <param name="final">true for the <c>status</c> object, false for a <c>failed.{a}</c> record, null for a hint's bytes (either).</param>
    public async Task ApplyAsync(int index, byte[] bytes, bool? final)
    {
        StatusRecord record;
        try
        {
            record = WireJson.DeserializeStatus(bytes);
        }
        catch (FormatException e)
        {
            Invalid(index, e);
            return;
        }

        await ApplyAsync(index, record, final).ConfigureAwait(false);
    }

    /// <param name="index">The call.</param>
    /// <param name="record">The outcome record, read or carried by its marker.</param>
    /// <param name="final">true for the <c>status</c> object, false for a <c>failed.{a}</c> record, null for a hint's (either).</param>
    /// <param name="output">The result object, when the reader fetched it already (null: read it here if needed).</param>
    public async Task ApplyAsync(int index, StatusRecord record, bool? final, byte[]? output = null)
    {
        CallState state = _ledger[index];
        DateTimeOffset seen = _time.GetUtcNow();

        // A hint's bytes are the status when the attempt created it (a success or a final failure), else its failed.{a} record.
        bool isFinal = final ?? (record.Succeeded || !IsRetryable(record, index));
        if (!isFinal)
        {
            state.FailedSeen = (short)Math.Clamp(Math.Max(state.FailedSeen, record.Attempt), 0, short.MaxValue);
        }

        switch (StatusInterpreter.Interpret(record, isFinal, state, _calls.RetriesOf(index)))
        {
            case StatusAction.Ignore:
                return;
            case StatusAction.Retry:
                _attempts.Retry(index, $"attempt {record.Attempt} failed ({record.Error?.Type})");
                return;
            case StatusAction.Fail:
                RecordStats(index, record, seen);
                RemoteError error = record.Error ?? new RemoteError(RemoteError.PlatformKind, "Neutral.UnknownError", "the status reports a failure without an error", null);
                string message = isFinal || error.Kind == RemoteError.UserKind
                    ? error.Message
                    : $"Call {index} of job {_jobId} failed after {state.Launched} attempts: {error.Message}";
                _ledger.Fail(index, new RemoteException(message, error.Type, error.StackTrace, _jobId, index, record.Attempt));
                return;
        }

        byte[]? payload = record.InlineResult ?? output;
        if (payload is null && record.OutputKey is { } stored && _sink.Holds.Feeding)
        {
            // Other calls read this job's results: a result stored as an object stays there until the application asks.
            _sink.Defer(index, stored);
            Succeeded(index, record, state, seen);
            return;
        }

        if (payload is null && record.OutputKey is not null)
        {
            (payload, bool failed) = await TryReadAsync(index, record.OutputKey).ConfigureAwait(false);
            if (failed)
            {
                return;
            }
        }

        if (payload is null)
        {
            _ledger.Fail(index, new RemoteException($"The result object '{record.OutputKey}' of call {index} is missing.", "Neutral.OutputMissing", null, _jobId, index, record.Attempt));
            return;
        }

        try
        {
            _sink.Decode(index, payload);
        }
        catch (CodecException e)
        {
            _attempts.Fault(index, typeof(CodecException).FullName!, $"the result of call {index} could not be decoded: {e.Message}");
            return;
        }

        Succeeded(index, record, state, seen, _time.GetUtcNow());
    }

    /// <summary>Call <paramref name="index"/>'s result decoded (or left in storage): the stats, then the success, then the measures.</summary>
    private void Succeeded(int index, StatusRecord record, CallState state, DateTimeOffset seen, DateTimeOffset? fetched = null)
    {
        // The stats are in place before the future completes: an awaiting caller reads them at once.
        RecordStats(index, record, seen, fetched);
        if (!_ledger[index].Done)
        {
            // Before the future completes, as the stats are: a caller that awaited it sees the measurement made.
            Telemetry.CallDuration.Record(Math.Max(0, (record.WorkerEnd - record.WorkerStart).TotalSeconds));
        }

        _ledger.Succeed(index);

        // The run time for the speculation median: from the start seen here, else (the status came in the same listing
        // as its start marker) as the worker measured it.
        _policy.RecordDuration(state.StartedAt is { } started ? seen - started : record.WorkerEnd - record.WorkerStart);
        // The batch size (Job:CallsPerInvocation=auto) from the worker's own measure: the client's includes its polling.
        _policy.Sizer?.Record(record.WorkerEnd - record.WorkerStart);
    }

    private void Invalid(int index, FormatException e) =>
        _attempts.Fault(index, typeof(FormatException).FullName!, $"the outcome object of call {index} is not valid: {e.Message}");

    private void Unreadable(int index, string what, Exception e) =>
        _attempts.Fault(index, "Neutral.OutcomeUnreadable", $"reading {what} of call {index} failed: {e.GetType().Name}: {e.Message}");

    private bool IsRetryable(StatusRecord record, int index) => record.Error?.Kind switch
    {
        RemoteError.PlatformKind => true,
        RemoteError.UserKind => _calls.RetriesUserErrors(index),
        _ => false,
    };

    private void RecordStats(int index, StatusRecord status, DateTimeOffset seen, DateTimeOffset? fetched = null) =>
        _sink.Records.Record(index, _ledger[index].InvokedAt, status, seen, fetched);
}
