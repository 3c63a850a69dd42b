using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// A job's lease and attached clients (<c>Cloud.AttachAsync</c>): the client holding the lease drives the job (launches,
/// retries, speculates, cleans up); a client attached without it observes (lists the job's slots, reads outcomes) and
/// takes the job over when the driver's lease expires. See docs/executor.md, "Attaching to a job".
/// </summary>
internal sealed partial class JobRunner
{
    /// <summary>How often a client attached without driving lists the job's slot folder.</summary>
    internal static readonly TimeSpan ObservationInterval = TimeSpan.FromSeconds(1);

    private JobLease? _lease;
    private bool _observer;
    private bool _attached;
    private DateTimeOffset _nextObservation;
    private int _maxSlotSeen = -1;
    private long _presenceBeat;
    private string? _ended;

    /// <summary>Whether this client drives the job (holds its lease); false for a client attached without it.</summary>
    public bool Driving => _lease is not { Held: false };

    /// <summary>A runner for a job another client submitted: its arguments are read from storage, its results land in the returned sink.</summary>
    public static (JobRunner Runner, ResultSink<T> Results) Attach<T>(CloudContext cloud, JobManifest manifest, RemoteFunction<T>[] functions, JobStaging staging)
    {
        var results = new ResultSink<T>(manifest.JobId, manifest.CallCount, functions, manifest.Created, new JobHolds(cloud));
        var runner = new JobRunner(cloud, manifest.JobId, manifest.Created, results, inputs: null) { _attached = true };
        runner._envelopes.Staging = staging;
        // Not held until the first look says the driver is gone.
        runner._lease = new JobLease(cloud, manifest.JobId);
        return (runner, results);
    }

    private async Task RunAttachedAsync()
    {
        try
        {
            CreateLauncher();
            BecomeObserver();

            // What storage says now: calls done, running, failed, and the slots used so far.
            var reads = new ReadSet();
            await ObserveAsync(reads).ConfigureAwait(false);
            await _outcomes.ReadAsync(reads).ConfigureAwait(false);
            Trace($"attached: {_ledger.Done} of {_ledger.Count} calls done");
            await WritePresenceAsync().ConfigureAwait(false);
            if (!_ledger.AllDone && await _lease!.TryTakeOverAsync().ConfigureAwait(false))
            {
                await BecomeDriverAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _ledger.FailPending(i => new RemoteException($"Attaching to job {JobId} failed: {e.Message}", e.GetType().FullName!, null, JobId, i, 0, e));
            await FinishAsync().ConfigureAwait(false);
            return;
        }

        EndObservedIfEnded();
        await MonitorAsync(launchAll: false).ConfigureAwait(false);
    }

    /// <summary>Renews the lease (driver) or the presence record and looks at the lease (attached).</summary>
    private async Task LeaseTickAsync()
    {
        try
        {
            if (_lease!.Held)
            {
                if (!await _lease.RenewAsync().ConfigureAwait(false))
                {
                    Trace($"lease taken over (generation {_lease.Generation}): observing");
                    BecomeObserver();
                }
            }
            else
            {
                await WritePresenceAsync().ConfigureAwait(false);
                if (await _lease.TryTakeOverAsync().ConfigureAwait(false))
                {
                    await BecomeDriverAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (TransientErrors.IsTransient(e) || e is StoreUnavailableException)
        {
            // The next tick tries again. A driver that could not renew for a lease's length stops launching: another
            // client may hold the job now, and two must never both retry a call.
            Log.LeaseFailed(_logger, e, JobId, e.Message);
            if (_lease!.Held && _observer)
            {
                // A takeover that failed half-way (BecomeDriverAsync fenced it already): keep observing.
                _lease.Fence();
            }
            else if (_lease.Lapsed(_time.GetUtcNow()))
            {
                Trace("lease not renewed for its length: observing");
                _lease.Fence();
                BecomeObserver();
            }
        }
    }

    /// <summary>
    /// Stops the job here as a killed client would (tests): no more launches, renewals or cleanup; the futures stay as
    /// they are, and the job's data stays in storage for another client to attach to.
    /// </summary>
    internal void Abandon() => _events.Post(new JobEvent(JobEventKind.Abandon, -1, 0));

    private void BecomeObserver()
    {
        _observer = true;
        _attempts.Passive = true;
        _launcher?.Stop();
        _nextObservation = _time.GetUtcNow();
    }

    /// <summary>
    /// Takes the job over: every call without an outcome gets a new attempt now, numbered from this generation's base
    /// (an attempt of the old driver may still end first; the first status wins), in slots after the old driver's.
    /// </summary>
    private async Task BecomeDriverAsync()
    {
        try
        {
            var reads = new ReadSet();
            await ObserveAsync(reads).ConfigureAwait(false);
            foreach (int i in Enumerable.Range(0, _ledger.Count).Where(i => !_ledger[i].Done))
            {
                // A status whose marker was lost is found here, not relaunched.
                reads.Status.Add(i);
            }

            await _outcomes.ReadAsync(reads).ConfigureAwait(false);
        }
        catch
        {
            // Not driving after all: the generation taken lapses unrenewed, and a client takes the next one.
            _lease!.Fence();
            throw;
        }

        await DeleteQuietlyAsync(StorageLayout.Attached(JobId, _cloud.ClientId)).ConfigureAwait(false);
        Trace($"took the job over (generation {_lease!.Generation}): {_ledger.Count - _ledger.Done} calls to run");

        _observer = false;
        _attempts.Passive = false;
        _poller.Slots.SkipTo(_maxSlotSeen + 1);
        SubscribeToHints();
        CreateLauncher();
        int attemptBase = _lease.AttemptBase;
        for (int i = 0; i < _ledger.Count; i++)
        {
            CallState state = _ledger[i];
            if (state.Done)
            {
                continue;
            }

            if (_inputs is not null && _inputs.Holds(i))
            {
                // A call waiting for inputs: launched when they end (InputsReady); if they have, now or never.
                if (!_inputs.Ended(i))
                {
                    continue;
                }

                if (_inputs.Check(JobId, i) is { } failure)
                {
                    _ledger.Fail(i, failure);
                    continue;
                }
            }

            state.Launched = Math.Max(state.Launched, attemptBase);
            state.StartedAt = null;
            _attempts.Launch(i);
        }

        _launcher!.Start();
    }

    /// <summary>Lists the whole slot folder: calls seen running, outcomes to read, the highest slot used.</summary>
    private async Task ObserveAsync(ReadSet reads)
    {
        DateTimeOffset now = _time.GetUtcNow();
        _nextObservation = now + ObservationInterval;
        string prefix = StorageLayout.Slots(JobId);
        await foreach (ObjectInfo info in _cloud.Jobs.ListAsync(prefix).ConfigureAwait(false))
        {
            ReadOnlySpan<char> rest = info.Key.AsSpan(Math.Min(prefix.Length, info.Key.Length));
            int slash = rest.IndexOf('/');
            if (!info.Key.StartsWith(prefix, StringComparison.Ordinal) || slash <= 0
                || !int.TryParse(rest[..slash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int slot)
                || !StorageLayout.TryParseSlotMarker(rest[(slash + 1)..], out int index, out int attempt, out char kind, out ReadOnlySpan<char> payload)
                || (uint)index >= (uint)_ledger.Count)
            {
                continue;
            }

            _maxSlotSeen = Math.Max(_maxSlotSeen, slot);
            CallState state = _ledger[index];
            if (state.Done)
            {
                continue;
            }

            if (_observer)
            {
                // What the driver launched, so that a takeover numbers its attempts above it.
                state.Launched = Math.Max(state.Launched, attempt);
            }

            switch (kind)
            {
                case 's':
                    // Applied after this observation's outcomes, as the driver's poller does.
                    reads.Started.Add((index, attempt, now));
                    break;
                case 't' when reads.Status.Add(index):
                    if (!payload.IsEmpty && MarkerStatus.Decode(payload, JobId, index, attempt) is { } carried)
                    {
                        reads.Carried[index] = carried;
                    }

                    break;
                case 'f' when attempt > state.FailedSeen && !reads.Failed.Contains((index, attempt)):
                    reads.Failed.Add((index, attempt));
                    break;
            }
        }

        if (_observer && _ended is null && await _cloud.Jobs.GetAsync(StorageLayout.Manifest(JobId)).ConfigureAwait(false) is null)
        {
            // The job's data was deleted without an end written (its driver was interrupted, or the job cleaned from
            // outside): what storage still said is read; the rest has no outcome to wait for.
            _ended = "gone";
        }

        if (_observer && _ended is null && await _cloud.Jobs.GetAsync(StorageLayout.Ended(JobId)).ConfigureAwait(false) is { } ended)
        {
            // The driver is done: every outcome it knows is in a status now. Read them all; what is left has none.
            _ended = Encoding.UTF8.GetString(ended);
            foreach (int i in Enumerable.Range(0, _ledger.Count).Where(i => !_ledger[i].Done))
            {
                reads.Status.Add(i);
            }
        }
    }

    /// <summary>After the driver ended and the statuses were read: the calls still pending get the driver's verdict.</summary>
    private void EndObservedIfEnded()
    {
        if (_ended is null || _ledger.AllDone)
        {
            return;
        }

        if (_ended == "cancelled")
        {
            _ledger.CancelPending();
            return;
        }

        _ledger.FailPending(i => new RemoteException(_ended == "gone"
            ? $"The data of job {JobId} was deleted before this client saw call {i} end (the client that drove the job was interrupted, or the job was cleaned up from outside)."
            : $"The client that drove job {JobId} ended without recording an outcome for call {i}.", "Neutral.OutcomeMissing", null, JobId, i, 0));
    }

    /// <summary>This client's record among the attached ones: the driver waits for it before deleting the job's data.</summary>
    private async Task WritePresenceAsync()
    {
        var record = new LeaseRecord
        {
            ClientId = _cloud.ClientId,
            Owner = _cloud.Owner,
            Generation = _lease?.Generation ?? 0,
            Renewed = _time.GetUtcNow(),
            Beat = Interlocked.Increment(ref _presenceBeat),
            Seconds = _cloud.Options.Job.LeaseSeconds,
        };
        await _cloud.Jobs.PutAsync(StorageLayout.Attached(JobId, _cloud.ClientId), WireJson.Serialize(record)).ConfigureAwait(false);
    }

    /// <summary>
    /// The driver's renewals while it finishes (writing kept failures, waiting for attached clients and for the calls
    /// that read this job's results): the monitor loop that renews has ended, and a lapsed lease would let an attached
    /// client take over a finished job.
    /// </summary>
    private async Task RenewWhileFinishingAsync(CancellationToken finished)
    {
        while (_lease is { Held: true } lease)
        {
            try
            {
                await Task.Delay(lease.Interval, _time, finished).ConfigureAwait(false);
                await lease.RenewAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (TransientErrors.IsTransient(e) || e is StoreUnavailableException)
            {
                Log.LeaseFailed(_logger, e, JobId, e.Message);
            }
            catch (Exception e)
            {
                // Anything else (the store disposed, a refusal) ends the renewals, never the job's cleanup, which awaits them.
                Log.LeaseFailed(_logger, e, JobId, e.Message);
                return;
            }
        }
    }

    /// <summary>An attached client's end: its record goes, the job stays its driver's.</summary>
    private Task DetachAsync() => DeleteQuietlyAsync(StorageLayout.Attached(JobId, _cloud.ClientId));

    /// <summary>
    /// The driver's end with clients attached: each call it failed without a status gets one (create-only: an attempt's
    /// own status wins), <c>ended</c> says the job is over, and the driver waits until the attached clients have read
    /// them and gone (their records deleted or expired, or the cloud disposed) before the job's data is deleted.
    /// </summary>
    private async Task ReleaseAttachedAsync()
    {
        try
        {
            if (!await AnyAttachedAsync(expiredToo: true).ConfigureAwait(false))
            {
                return;
            }

            bool cancelled = _ledger.Snapshot.Cancelled > 0 && _attempts.Stopped;
            foreach (var (index, error) in _ledger.Failures)
            {
                var status = new StatusRecord
                {
                    JobId = JobId,
                    CallIndex = index,
                    Attempt = error.Attempt,
                    Succeeded = false,
                    Error = new RemoteError(RemoteError.PlatformKind, error.RemoteTypeName, error.Message, error.RemoteStackTrace),
                };
                await _cloud.Jobs.TryCreateAsync(StorageLayout.Status(JobId, index), WireJson.Serialize(status)).ConfigureAwait(false);
            }

            await _cloud.Jobs.PutAsync(StorageLayout.Ended(JobId), Encoding.UTF8.GetBytes(cancelled ? "cancelled" : "done")).ConfigureAwait(false);
            Trace("waiting for attached clients");
            while (await AnyAttachedAsync(expiredToo: false).ConfigureAwait(false) && !_cloud.Disposing.IsCancellationRequested)
            {
                await Task.Delay(ObservationInterval, _time, _cloud.Disposing).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The cloud is being disposed: its jobs end now.
        }
        catch (Exception e) when (TransientErrors.IsTransient(e))
        {
            Log.LeaseFailed(_logger, e, JobId, e.Message);
        }
    }

    /// <summary>Whether another client's attached record exists (and, unless <paramref name="expiredToo"/>, is not expired).</summary>
    private async Task<bool> AnyAttachedAsync(bool expiredToo) =>
        await JobLease.CountAttachedAsync(_cloud.Jobs, JobId, _time.GetUtcNow(), _cloud.ClientId, expiredToo).ConfigureAwait(false) > 0;

    private async Task DeleteQuietlyAsync(string key)
    {
        try
        {
            await _cloud.Jobs.DeleteAsync(key).ConfigureAwait(false);
        }
        catch (Exception e) when (TransientErrors.IsTransient(e))
        {
            // Expires by itself.
        }
    }
}
