using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// What storage says of a job: the markers of its active launch slots (<see cref="CompletionSlots"/>), listed slot by
/// slot and processed key by key as they stream (<c>started</c>, <c>status</c> and <c>failed</c> markers), and direct
/// reads. Without hints the listings are how news arrives: each slot is listed every 10 ms while its listings bring news
/// and backs off to 2 s while they do not, and the poller never spends more than about a third of the time listing. With
/// hints the listing is the safety net for lost ones, run after a 2 s quiet spell. A listing that fails is a missed poll,
/// retried with back-off; only a store that keeps failing past <c>Job:StoreRetrySeconds</c> fails the job.
/// </summary>
internal sealed class StatusPoller
{
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaximumInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HintedInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most slots one poll lists: when more are due (a platform that took a hundred thousand calls at once), the
    /// ones due longest go first and the rest in the next polls, so that each poll's statuses are read, and its news
    /// delivered, before the next listings.
    /// </summary>
    public const int SlotsPerPoll = 32;

    /// <summary>
    /// Slot listings in flight at once: a client 20 ms from its store lists a poll's 32 slots in about 80 ms, not 640.
    /// </summary>
    public const int ListingConcurrency = 8;

    /// <summary>
    /// Status reads in flight at once. A read is a round trip: eight at a time, a client 20 ms from its store read 400
    /// statuses a second, and a job could go no faster; 64 read 3,200.
    /// </summary>
    public const int ReadConcurrency = 256;

    /// <summary>Pending calls at or below which their statuses are also read directly after a listing.</summary>
    public const int TailSize = 8;
    private readonly IObjectStore _jobs;
    private readonly string _jobId;
    private readonly bool _hinted;
    private readonly TimeProvider _time;
    private readonly TimeSpan _failureBound;
    private readonly List<int> _due = [];
    private TimeSpan _failureInterval = MinimumInterval;
    private DateTimeOffset? _failingSince;
    private int _sentUpTo = -1;

    public StatusPoller(IObjectStore jobs, string jobId, bool hinted, TimeProvider time, TimeSpan failureBound)
    {
        _jobs = jobs;
        _jobId = jobId;
        _hinted = hinted;
        _time = time;
        _failureBound = failureBound;
        NextListing = time.GetUtcNow() + (hinted ? HintedInterval : MinimumInterval);
    }

    /// <summary>The job's launch slots: attempts get theirs from here, and the poller lists the active ones.</summary>
    public CompletionSlots Slots { get; } = new();

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

    /// <summary>Attempts of every slot up to <paramref name="slot"/> were sent: those slots are listed from the next poll on.</summary>
    public void SentUpTo(int slot)
    {
        slot = Math.Min(slot, Slots.Count - 1);
        while (_sentUpTo < slot)
        {
            Accepted(++_sentUpTo);
        }
    }

    /// <summary>An attempt in <paramref name="slot"/> was accepted: the slot is listed from the next poll on.</summary>
    public void Accepted(int slot)
    {
        DateTimeOffset due = _time.GetUtcNow() + MinimumInterval;
        if (Slots.Activate(slot, due) && !_hinted && due < NextListing)
        {
            NextListing = due;
        }
    }

    /// <summary>
    /// Lists the active slots that are due; returns how many new outcomes it found. With <paramref name="pending"/> calls
    /// or fewer left (<see cref="TailSize"/>), their statuses are read directly too: listings can lag, and a marker can be lost.
    /// </summary>
    public async Task<int> ListAsync(CallState[] state, ReadSet reads, int pending)
    {
        Telemetry.Polls.Add(1);
        int found = await ListSlotsAsync(state, reads).ConfigureAwait(false);
        if (pending <= TailSize)
        {
            foreach (int slot in Slots.Active)
            {
                ReadPending(Slots[slot], state, reads);
            }
        }

        return found;
    }

    private async Task<int> ListSlotsAsync(CallState[] state, ReadSet reads)
    {
        DateTimeOffset now = _time.GetUtcNow();
        long listStart = _time.GetTimestamp();
        int found = 0;
        _due.Clear();
        foreach (int slot in Slots.Active)
        {
            if (_hinted || Slots[slot].Next <= now)
            {
                _due.Add(slot);
            }
        }

        bool more = _due.Count > SlotsPerPoll;
        if (more)
        {
            _due.Sort((a, b) => Slots[a].Next.CompareTo(Slots[b].Next));
            _due.RemoveRange(SlotsPerPoll, _due.Count - SlotsPerPoll);
        }

        // Done slots close without a listing; the others are listed a few at a time (a client far from its store pays a
        // round trip a listing) and processed here, in order, as their listings come back.
        _due.RemoveAll(slot => Slots.CloseIfDone(slot, state));
        var listings = new Task<List<Marker>>[_due.Count];
        for (int k = 0; k < Math.Min(ListingConcurrency, listings.Length); k++)
        {
            listings[k] = CollectSlotAsync(_due[k]);
        }

        try
        {
            for (int k = 0; k < listings.Length; k++)
            {
                int slot = _due[k];
                List<Marker> markers = await listings[k].ConfigureAwait(false);
                if (k + ListingConcurrency < listings.Length)
                {
                    listings[k + ListingConcurrency] = CollectSlotAsync(_due[k + ListingConcurrency]);
                }

                int news = Apply(markers, state, reads, now);
                found += news;
                CompletionSlots.Slot s = Slots[slot];
                if (news == 0 && s.Interval >= MaximumInterval)
                {
                    // Quiet for seconds with a few calls left: read their statuses too, for a marker that was lost (a
                    // worker killed between its status and its marker) or a listing that lags.
                    ReadQuietSlot(s, state, reads);
                }

                s.Interval = news > 0 ? MinimumInterval : Min(Max(s.Interval * 2, MinimumInterval), MaximumInterval);
                s.Next = now + s.Interval;
            }

            _failingSince = null;
            _failureInterval = MinimumInterval;
        }
        catch (Exception e) when (TransientErrors.IsTransient(e))
        {
            // Listings still in flight end unobserved otherwise.
            foreach (Task<List<Marker>>? listing in listings)
            {
                _ = listing?.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            // A missed poll: try again after the back-off, unless the store has been failing for too long.
            _failingSince ??= now;
            if (now - _failingSince.Value > _failureBound)
            {
                throw new StoreUnavailableException($"Listing the job's objects failed for {(now - _failingSince.Value).TotalSeconds:0.#} s (Job:StoreRetrySeconds): {e.Message}", e);
            }

            _failureInterval = Min(_failureInterval * 2, MaximumInterval);
            NextListing = now + _failureInterval;
            return found;
        }

        // The next poll when the first slot is due; never spending more than about a third of the time listing (a
        // poll of many slots is long). With hints, after the next quiet spell.
        TimeSpan took = _time.GetElapsedTime(listStart);
        DateTimeOffset next = now + (_hinted && !more ? HintedInterval : MaximumInterval);
        if (!_hinted || more)
        {
            foreach (int slot in Slots.Active)
            {
                next = Slots[slot].Next < next ? Slots[slot].Next : next;
            }
        }

        DateTimeOffset earliest = _time.GetUtcNow() + Max(took * 2, MinimumInterval);
        NextListing = next > earliest ? next : earliest;
        return found;
    }

    private static void ReadQuietSlot(CompletionSlots.Slot s, CallState[] state, ReadSet reads)
    {
        int pending = 0;
        for (int k = 0; k < s.Count && pending <= TailSize; k++)
        {
            pending += state[s.Calls[k]].Done ? 0 : 1;
        }

        if (pending <= TailSize)
        {
            ReadPending(s, state, reads);
        }
    }

    /// <summary>Asks for a direct read of the status of each call of <paramref name="s"/> without an outcome.</summary>
    private static void ReadPending(CompletionSlots.Slot s, CallState[] state, ReadSet reads)
    {
        for (int k = 0; k < s.Count; k++)
        {
            if (!state[s.Calls[k]].Done)
            {
                reads.Status.Add(s.Calls[k]);
            }
        }
    }

    /// <summary>
    /// One slot marker as listed: its call, attempt and kind (<c>s</c>, <c>t</c> or <c>f</c>), and the status a status
    /// marker carries (protocol version 4), decoded off the monitor.
    /// </summary>
    private readonly record struct Marker(int Index, int Attempt, char Kind, StatusRecord? Status);

    /// <summary>Lists one slot's markers (on any thread: it reads no call's state).</summary>
    private async Task<List<Marker>> CollectSlotAsync(int slot)
    {
        string prefix = StorageLayout.Slot(_jobId, slot);
        var markers = new List<Marker>();
        Telemetry.Listings.Add(1);

        // Parsed in place, without a string per key.
        await foreach (ObjectInfo info in _jobs.ListAsync(prefix).ConfigureAwait(false))
        {
            if (info.Key.StartsWith(prefix, StringComparison.Ordinal)
                && StorageLayout.TryParseSlotMarker(info.Key.AsSpan(prefix.Length), out int index, out int attempt, out char kind, out ReadOnlySpan<char> payload))
            {
                markers.Add(new Marker(index, attempt, kind, payload.IsEmpty ? null : MarkerStatus.Decode(payload, _jobId, index, attempt)));
            }
        }

        return markers;
    }

    /// <summary>
    /// What one slot's markers say: calls seen starting, outcomes to read. Returns the news they brought. Starts are
    /// recorded in <see cref="ReadSet.Started"/> and applied after the outcomes of the same poll: a listing can show a
    /// worker's next call starting before the outcome of the call it just finished has been read, and applying the start
    /// first would count both as running.
    /// </summary>
    private static int Apply(List<Marker> markers, CallState[] state, ReadSet reads, DateTimeOffset now)
    {
        int news = 0;
        foreach ((int index, int attempt, char kind, StatusRecord? status) in markers)
        {
            if (index >= state.Length || state[index].Done)
            {
                continue;
            }

            CallState call = state[index];
            switch (kind)
            {
                case 's' when attempt == call.Launched && call.StartedAt is null:
                    reads.Started.Add((index, attempt, now));
                    news++;
                    break;
                case 't' when reads.Status.Add(index):
                    if (status is not null)
                    {
                        // The status rode in its marker: applied without a read.
                        reads.Carried[index] = status;
                    }

                    news++;
                    break;
                case 'f' when attempt > call.FailedSeen && !reads.Failed.Contains((index, attempt)):
                    reads.Failed.Add((index, attempt));
                    news++;
                    break;
            }
        }

        return news;
    }

    /// <summary>
    /// Runs <paramref name="read"/> for each call (<see cref="ReadConcurrency"/> at a time, off the monitor) and yields
    /// each result as it arrives, so that the first outcomes of a large poll are applied while the others are read. The
    /// reader catches its own failures; one it lets through (the store staying down) ends the enumeration after what
    /// arrived before it.
    /// </summary>
    public static async IAsyncEnumerable<T> ReadAsync<T>(IEnumerable<int> indices, Func<int, Task<T>> read)
    {
        int[] wanted = indices.ToArray();
        if (wanted.Length <= 2)
        {
            foreach (int index in wanted)
            {
                yield return await read(index).ConfigureAwait(false);
            }

            yield break;
        }

        var arrived = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        Task reading = ReadAllAsync(wanted, read, arrived.Writer);
        await foreach (T one in arrived.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            yield return one;
        }

        await reading.ConfigureAwait(false);
    }

    private static async Task ReadAllAsync<T>(int[] wanted, Func<int, Task<T>> read, ChannelWriter<T> arrived)
    {
        try
        {
            await Parallel.ForEachAsync(wanted, new ParallelOptions { MaxDegreeOfParallelism = ReadConcurrency }, async (index, _) =>
            {
                arrived.TryWrite(await read(index).ConfigureAwait(false));
            }).ConfigureAwait(false);
            arrived.TryComplete();
        }
        catch (Exception e)
        {
            // The store stayed down: the reader sees it after what arrived.
            arrived.TryComplete(e);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>What the monitor reads after a round of events and a listing.</summary>
internal sealed class ReadSet
{
    public HashSet<int> Status { get; } = [];

    /// <summary>Of <see cref="Status"/>, the statuses their markers carried (protocol version 4): nothing to read.</summary>
    public Dictionary<int, StatusRecord> Carried { get; } = [];

    public List<(int Index, int Attempt)> Failed { get; } = [];

    public List<(int Index, int Attempt, string Reason)> Lost { get; } = [];

    /// <summary>Calls seen starting, applied after the outcomes (<see cref="OutcomeReader.ReadAsync"/>).</summary>
    public List<(int Index, int Attempt, DateTimeOffset At)> Started { get; } = [];
}
