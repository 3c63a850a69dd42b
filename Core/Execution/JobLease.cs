using System;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Which client drives a job: the one holding the newest generation of its lease (<c>jobs/{id}/lease/{g}</c>). The
/// client that submits the job creates generation 0; the holder renews its record every third of
/// <c>Job:LeaseSeconds</c> and checks that no next generation exists; a client attached to the job watches the newest
/// record, and once it has not changed for <c>Job:LeaseSeconds</c> by its own clock, creates the next generation,
/// create-only: of several attached clients one wins, and the old holder, should it still run, sees that it lost at its
/// next renewal and stops launching. Only the holder launches attempts, so two clients never both retry one call.
/// </summary>
internal sealed class JobLease
{
    /// <summary>Attempt numbers of the client holding generation g start after g × this: a taken-over job never reuses one.</summary>
    public const int AttemptEpoch = 1000;

    private readonly PrefixedObjectStore _jobs;
    private readonly string _jobId;
    private readonly CloudContext _cloud;
    private readonly TimeSpan _length;
    private long _beat;
    private LeaseRecord? _seen;
    private DateTimeOffset _seenChanged;

    public JobLease(CloudContext cloud, string jobId)
    {
        _cloud = cloud;
        _jobs = cloud.Jobs;
        _jobId = jobId;
        _length = TimeSpan.FromSeconds(cloud.Options.Job.LeaseSeconds);
        NextCheck = cloud.Time.GetUtcNow() + Interval;
    }

    /// <summary>The generation this client holds, or last saw.</summary>
    public int Generation { get; private set; }

    /// <summary>Whether this client drives the job.</summary>
    public bool Held { get; private set; }

    /// <summary>The first attempt number this client's launches may use, less one.</summary>
    public int AttemptBase => Generation * AttemptEpoch;

    /// <summary>When the holder last renewed its record: one that could not for a lease's length stops launching.</summary>
    public DateTimeOffset LastRenewed { get; private set; }

    /// <summary>Whether the holder has gone a lease's length without renewing (another client may have taken over).</summary>
    public bool Lapsed(DateTimeOffset now) => Held && now - LastRenewed >= _length;

    /// <summary>When to renew (holder) or look (attached) next.</summary>
    public DateTimeOffset NextCheck { get; private set; }

    /// <summary>How often the record is renewed or looked at: a third of the lease.</summary>
    public TimeSpan Interval => _length / 3;

    private LeaseRecord Record(int generation) => new()
    {
        ClientId = _cloud.ClientId,
        Owner = _cloud.Owner,
        Generation = generation,
        Renewed = _cloud.Time.GetUtcNow(),
        Beat = Interlocked.Increment(ref _beat),
        Seconds = (int)_length.TotalSeconds,
    };

    /// <summary>Gives the lease up (a holder that could not renew it in time): attached from now on.</summary>
    public void Fence() => Held = false;

    /// <summary>Generation 0, by the client that submits the job (with its manifest).</summary>
    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        await _jobs.PutAsync(StorageLayout.Lease(_jobId, 0), WireJson.Serialize(Record(0)), cancellationToken).ConfigureAwait(false);
        Generation = 0;
        Held = true;
        LastRenewed = _cloud.Time.GetUtcNow();
    }

    /// <summary>
    /// The holder's renewal: rewrites its record, then checks that no one took the next generation. Returns false when
    /// the lease was lost (the client stops launching).
    /// </summary>
    public async Task<bool> RenewAsync()
    {
        DateTimeOffset now = _cloud.Time.GetUtcNow();
        NextCheck = now + Interval;
        await _jobs.PutAsync(StorageLayout.Lease(_jobId, Generation), WireJson.Serialize(Record(Generation))).ConfigureAwait(false);
        LastRenewed = now;
        if (await _jobs.GetAsync(StorageLayout.Lease(_jobId, Generation + 1)).ConfigureAwait(false) is not null)
        {
            Held = false;
            Generation++;
        }

        return Held;
    }

    /// <summary>The newest generation's record and number (null when the job has none: not staged yet, or cleaned).</summary>
    public static async Task<(int Generation, LeaseRecord? Record)> ReadNewestAsync(IObjectStore jobs, string jobId, CancellationToken cancellationToken = default)
    {
        int newest = -1;
        string prefix = StorageLayout.Leases(jobId);
        await foreach (ObjectInfo info in jobs.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (info.Key.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(info.Key.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int generation))
            {
                newest = Math.Max(newest, generation);
            }
        }

        if (newest < 0 || await jobs.GetAsync(StorageLayout.Lease(jobId, newest), cancellationToken).ConfigureAwait(false) is not { } bytes)
        {
            return (newest, null);
        }

        try
        {
            return (newest, WireJson.DeserializeLease(bytes));
        }
        catch (FormatException)
        {
            // Being written by a store without atomic puts: the next look reads it whole.
            return (newest, null);
        }
    }

    /// <summary>
    /// An attached client's look: notes when the newest record last changed, and once it has not for the lease's length,
    /// takes the next generation (create-only). Returns whether this client now drives the job.
    /// </summary>
    public async Task<bool> TryTakeOverAsync()
    {
        DateTimeOffset now = _cloud.Time.GetUtcNow();
        NextCheck = now + Interval;
        (int generation, LeaseRecord? record) = await ReadNewestAsync(_jobs, _jobId).ConfigureAwait(false);
        if (generation < 0)
        {
            return false;
        }

        // A holder whose process ended on this host, or whose record expired by its own clock (twice over), is gone:
        // no need to watch it for a lease's length first (a client attaching after a crash takes over at once).
        bool gone = record is not null && (JobCleanup.EndedHere(record.Owner) || Expired(record, now));
        if (!gone && (_seen is null || generation != Generation || record is null || record.Beat != _seen.Beat || record.ClientId != _seen.ClientId))
        {
            // News: the holder renewed (or a new one took over). Expiry counts from now, by this client's clock.
            Generation = generation;
            _seen = record ?? _seen;
            _seenChanged = now;
            return false;
        }

        if (!gone && now - _seenChanged < _length)
        {
            return false;
        }

        if (!await _jobs.TryCreateAsync(StorageLayout.Lease(_jobId, generation + 1), WireJson.Serialize(Record(generation + 1))).ConfigureAwait(false))
        {
            // Another attached client was first: watch its record from now on.
            Generation = generation + 1;
            _seen = null;
            return false;
        }

        Generation = generation + 1;
        Held = true;
        LastRenewed = now;
        return true;
    }

    /// <summary>
    /// The clients attached to job <paramref name="jobId"/> (<c>attached/</c> records) other than
    /// <paramref name="exceptClient"/>: those whose record is fresh and whose process has not ended on this host, or, with
    /// <paramref name="expiredToo"/>, every record.
    /// </summary>
    public static async Task<int> CountAttachedAsync(IObjectStore jobs, string jobId, DateTimeOffset now, string? exceptClient = null, bool expiredToo = false, CancellationToken cancellationToken = default)
    {
        var keys = new System.Collections.Generic.List<string>();
        await foreach (ObjectInfo info in jobs.ListAsync(StorageLayout.Attached(jobId), cancellationToken).ConfigureAwait(false))
        {
            if (exceptClient is null || !info.Key.EndsWith("/" + exceptClient, StringComparison.Ordinal))
            {
                keys.Add(info.Key);
            }
        }

        if (expiredToo)
        {
            return keys.Count;
        }

        int attached = 0;
        foreach (string key in keys)
        {
            if (await jobs.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } bytes)
            {
                continue;
            }

            try
            {
                LeaseRecord record = WireJson.DeserializeLease(bytes);
                attached += !Expired(record, now) && !JobCleanup.EndedHere(record.Owner) ? 1 : 0;
            }
            catch (FormatException)
            {
                // Not a record: no one.
            }
        }

        return attached;
    }

    /// <summary>Whether a record, by its own renewal time and length, has expired at <paramref name="now"/> (a generous reading: twice its length).</summary>
    public static bool Expired(LeaseRecord record, DateTimeOffset now) => now - record.Renewed > TimeSpan.FromSeconds(2 * Math.Max(1, record.Seconds));
}
