using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// What storage says of a job: one listing of <c>calls/</c> per poll, processed key by key as it streams (statuses,
/// <c>started.{a}</c> markers, <c>failed.{a}</c> records), and direct reads. Without hints the listing is how news
/// arrives: it polls fast while listings bring news and backs off to 2 s while they do not. With hints it is the safety
/// net for lost ones, run after a 2 s quiet spell. A listing that fails is a missed poll, retried with back-off; only a
/// store that keeps failing past <c>Job:StoreRetrySeconds</c> fails the job.
/// </summary>
internal sealed class StatusPoller
{
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaximumInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HintedInterval = TimeSpan.FromSeconds(2);

    /// <summary>Pending calls at or below which their statuses are also read directly after a listing.</summary>
    public const int TailSize = 8;
    private readonly IObjectStore _jobs;
    private readonly string _jobId;
    private readonly bool _hinted;
    private readonly TimeProvider _time;
    private readonly TimeSpan _failureBound;
    private readonly string _callsPrefix;
    private TimeSpan _interval = MinimumInterval;
    private DateTimeOffset? _failingSince;

    public StatusPoller(IObjectStore jobs, string jobId, bool hinted, TimeProvider time, TimeSpan failureBound)
    {
        _jobs = jobs;
        _jobId = jobId;
        _hinted = hinted;
        _time = time;
        _failureBound = failureBound;
        _callsPrefix = StorageLayout.Calls(jobId);
        NextListing = time.GetUtcNow() + MinimumInterval;
    }

    public DateTimeOffset NextListing { get; private set; }

    public bool ListingDue(DateTimeOffset now) => now >= NextListing;

    /// <summary>A hint arrived: with hints flowing, the listing waits for a quiet spell.</summary>
    public void HintArrived()
    {
        DateTimeOffset quiet = _time.GetUtcNow() + HintedInterval;
        if (_hinted && quiet > NextListing)
        {
            NextListing = quiet;
        }
    }

    /// <summary>
    /// Lists the job's call objects; returns how many new outcomes it found. With <paramref name="pending"/> calls or
    /// fewer left (<see cref="TailSize"/>), their statuses are read directly too: listings can lag.
    /// </summary>
    public async Task<int> ListAsync(CallState[] state, ReadSet reads, Action<int, DateTimeOffset> started, int pending)
    {
        int found = await ListCallsAsync(state, reads, started).ConfigureAwait(false);
        if (pending <= TailSize)
        {
            for (int i = 0; i < state.Length; i++)
            {
                if (!state[i].Done)
                {
                    reads.Status.Add(i);
                }
            }
        }

        return found;
    }

    private async Task<int> ListCallsAsync(CallState[] state, ReadSet reads, Action<int, DateTimeOffset> started)
    {
        DateTimeOffset now = _time.GetUtcNow();
        long listStart = _time.GetTimestamp();
        int found = 0;
        try
        {
            // Parsed in place, without a string per key: a listing of a large job holds hundreds of thousands.
            await foreach (ObjectInfo info in _jobs.ListAsync(_callsPrefix).ConfigureAwait(false))
            {
                if (!TryParse(info.Key.AsSpan(), out int index, out ReadOnlySpan<char> name) || index >= state.Length || state[index].Done)
                {
                    continue;
                }

                CallState call = state[index];
                if (name.SequenceEqual("status"))
                {
                    found += reads.Status.Add(index) ? 1 : 0;
                }
                else if (TryAttempt(name, "started.", out int attempt))
                {
                    if (attempt == call.Launched && call.StartedAt is null)
                    {
                        started(index, now);
                    }
                }
                else if (TryAttempt(name, "failed.", out attempt) && attempt > call.FailedSeen && !reads.Failed.Contains((index, attempt)))
                {
                    reads.Failed.Add((index, attempt));
                    found++;
                }
            }

            _failingSince = null;
        }
        catch (Exception e) when (TransientErrors.IsTransient(e))
        {
            // A missed poll: try again after the back-off, unless the store has been failing for too long.
            _failingSince ??= now;
            if (now - _failingSince.Value > _failureBound)
            {
                throw new StoreUnavailableException($"Listing the job's objects failed for {(now - _failingSince.Value).TotalSeconds:0.#} s (Job:StoreRetrySeconds): {e.Message}", e);
            }

            _interval = Min(_interval * 2, MaximumInterval);
            NextListing = now + _interval;
            return found;
        }

        // Without hints, poll fast while listings bring news and back off while they do not; and never spend more than
        // about a third of the time listing (a large job's listing is long).
        _interval = _hinted ? HintedInterval : found > 0 ? MinimumInterval : Min(_interval * 2, MaximumInterval);
        TimeSpan took = _time.GetElapsedTime(listStart);
        NextListing = _time.GetUtcNow() + (took * 2 > _interval ? took * 2 : _interval);
        return found;
    }

    /// <summary>
    /// Reads one object per call (eight at a time); a missing one reads as null, and one whose read failed (other than
    /// the store staying down, which ends the job) comes back with its error, leaving the others unaffected.
    /// </summary>
    public async Task<(int Index, byte[]? Bytes, Exception? Error)[]> ReadAsync(IEnumerable<int> indices, Func<string, int, string> key)
    {
        int[] wanted = indices.ToArray();
        var read = new (int Index, byte[]? Bytes, Exception? Error)[wanted.Length];
        if (wanted.Length <= 2)
        {
            for (int k = 0; k < wanted.Length; k++)
            {
                read[k] = await ReadOneAsync(wanted[k], key).ConfigureAwait(false);
            }
        }
        else
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, wanted.Length), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (k, _) =>
            {
                read[k] = await ReadOneAsync(wanted[k], key).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        return read;
    }

    private async Task<(int, byte[]?, Exception?)> ReadOneAsync(int index, Func<string, int, string> key)
    {
        try
        {
            return (index, await _jobs.GetAsync(key(_jobId, index)).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is not StoreUnavailableException and not OperationCanceledException)
        {
            return (index, null, e);
        }
    }

    private static bool TryAttempt(ReadOnlySpan<char> name, string stem, out int attempt)
    {
        attempt = 0;
        return name.StartsWith(stem, StringComparison.Ordinal)
            && int.TryParse(name[stem.Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out attempt);
    }

    /// <summary>Splits <c>jobs/{id}/calls/{i}/{name}</c> into the call index and the name, without allocating.</summary>
    private bool TryParse(ReadOnlySpan<char> key, out int index, out ReadOnlySpan<char> name)
    {
        index = -1;
        name = default;
        if (!key.StartsWith(_callsPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = key[_callsPrefix.Length..];
        int slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index))
        {
            return false;
        }

        name = rest[(slash + 1)..];
        return name.Length > 0;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>What the monitor reads after a round of events and a listing.</summary>
internal sealed class ReadSet
{
    public HashSet<int> Status { get; } = [];

    public List<(int Index, int Attempt)> Failed { get; } = [];

    public List<(int Index, int Attempt, string Reason)> Lost { get; } = [];
}
