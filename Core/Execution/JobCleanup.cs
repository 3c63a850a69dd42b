using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Deletes what jobs and clients leave in storage: a finished job's folder (and, when attempts may still be running, a
/// second pass a little later for their late writes), and at <c>Connect</c>, in the background, the jobs and shared
/// values of clients that are gone (killed before they could clean up) once older than <c>Job:SweepAfterHours</c>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The hurry source lives as long as the cloud; cancelling it is all it needs, and it holds no timer.")]
internal sealed class JobCleanup
{
    private static readonly TimeSpan LatePass = TimeSpan.FromSeconds(10);
    private readonly CloudContext _cloud;
    private readonly CancellationTokenSource _hurry = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _latePasses = new();

    public JobCleanup(CloudContext cloud) => _cloud = cloud;

    /// <summary>Runs the pending second passes now rather than after their delay, and waits for them (the cloud is closing).</summary>
    public async Task FlushLatePassesAsync(TimeSpan bound)
    {
        await _hurry.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_latePasses.Keys).WaitAsync(bound).ConfigureAwait(false);
    }

    /// <summary>A job or client id: its creation time (UTC, to the second) and ten random hex digits.</summary>
    public static string NewId(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

    /// <summary>The creation time an id starts with.</summary>
    public static DateTimeOffset? CreatedOf(string id) =>
        id.Length >= 15 && DateTime.TryParseExact(id.AsSpan(0, 15), "yyyyMMdd-HHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime at)
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : null;

    /// <summary>
    /// A finished job's data deleted (unless <c>Job:KeepData</c>): <paramref name="drain"/> first gives attempts still in
    /// flight a moment to end and says how many are left; a failure is logged, since a later Connect sweeps leftovers.
    /// </summary>
    /// <param name="jobId">The job.</param>
    /// <param name="drain">Waits for attempts in flight and returns how many did not end.</param>
    /// <param name="tracked">Whether the backend reported the job's attempts (else late writers are assumed).</param>
    public async Task FinishJobAsync(string jobId, Func<Task<int>> drain, bool tracked)
    {
        if (_cloud.Options.Job.KeepData)
        {
            return;
        }

        try
        {
            int live = await drain().ConfigureAwait(false);
            await DeleteJobAsync(jobId, lateWriters: live > 0 || !tracked).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.CleanupFailed(_cloud.Logger, e, jobId, e.Message);
        }
    }

    public async Task DeleteJobAsync(string jobId, bool lateWriters)
    {
        await _cloud.Jobs.DeletePrefixAsync(StorageLayout.Job(jobId)).ConfigureAwait(false);
        if (lateWriters)
        {
            // Attempts still running (speculative losers, calls that ignore cancellation) may write after the delete.
            Task pass = Task.Run(async () =>
            {
                try
                {
                    try
                    {
                        await Task.Delay(LatePass, _cloud.Time, _hurry.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // The cloud is closing: run the pass now, while the store is still open.
                    }

                    await _cloud.Jobs.DeletePrefixAsync(StorageLayout.Job(jobId)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Log.LatePassFailed(_cloud.Logger, e, jobId);
                }
            });
            _latePasses[pass] = 0;
            _ = pass.ContinueWith(t => _latePasses.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Records this client as the owner of its shared values (for sweeps by other clients).</summary>
    /// <remarks>
    /// The record is the owner, and a second line <c>keep</c> when the client keeps its data (<c>Job:KeepData</c>):
    /// such a client's shared values, like its jobs, are swept by age alone.
    /// </remarks>
    public Task RegisterClientAsync(CancellationToken cancellationToken) =>
        _cloud.Jobs.PutAsync(StorageLayout.Client(_cloud.ClientId), Encoding.UTF8.GetBytes(_cloud.Owner + (_cloud.Options.Job.KeepData ? "\nkeep" : "")), cancellationToken);

    /// <summary>Deletes jobs and shared values older than the bound whose owner is gone. Returns how many folders it deleted.</summary>
    /// <summary>Deletes the shuffles of <paramref name="client"/> (their folder <c>shuffles/{client}/</c>) in the job store and every named store.</summary>
    public async Task DeleteShufflesAsync(string client, CancellationToken cancellationToken)
    {
        await _cloud.Jobs.DeletePrefixAsync(StorageLayout.ClientShuffles(client), cancellationToken).ConfigureAwait(false);
        foreach (NamedStore store in _cloud.Stores)
        {
            await store.Internal.DeletePrefixAsync(StorageLayout.ClientShuffles(client), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds the clients with something under <paramref name="folder"/> (their id first in each key), each with whether it is older than <paramref name="cutoff"/>.</summary>
    private static async Task AddClientsAsync(PrefixedObjectStore store, string folder, DateTimeOffset cutoff, SortedDictionary<string, bool> clients, CancellationToken cancellationToken)
    {
        await foreach (ObjectInfo info in store.ListAsync(folder, cancellationToken).ConfigureAwait(false))
        {
            string rest = info.Key[folder.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            string id = slash > 0 ? rest[..slash] : rest;
            if (id.Length > 0 && CreatedOf(id) is { } created)
            {
                clients[id] = created < cutoff;
            }
        }
    }

    /// <summary>
    /// Deletes the jobs, shared values, shuffles and client records of clients that are gone: those older than
    /// <paramref name="olderThan"/> whose owner is not known to run, and, whatever their age, those whose owner ran on
    /// this host and has ended (a client killed, or ended by Ctrl-C before its cleanup finished), except jobs kept with
    /// <c>Job:KeepData</c>. Returns how many folders it deleted.
    /// </summary>
    public async Task<int> SweepAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        DateTimeOffset cutoff = _cloud.Time.GetUtcNow() - olderThan;
        var jobs = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        await foreach (ObjectInfo info in _cloud.Jobs.ListAsync(StorageLayout.JobsFolder, cancellationToken).ConfigureAwait(false))
        {
            string rest = info.Key[StorageLayout.JobsFolder.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && CreatedOf(rest[..slash]) is { } created)
            {
                jobs[rest[..slash]] = created < cutoff;
            }
        }

        int deleted = 0;
        foreach (var (job, old) in jobs)
        {
            string? owner = null;
            bool kept = false;
            if (await _cloud.Jobs.GetAsync(StorageLayout.Manifest(job), cancellationToken).ConfigureAwait(false) is { } manifest)
            {
                try
                {
                    JobManifest read = WireJson.DeserializeManifest(manifest);
                    (owner, kept) = (read.Owner, read.Kept);
                }
                catch (FormatException)
                {
                }
            }

            // A job with a lease: its newest holder drives it. Left alone while the driver lives or a client is attached
            // (it takes the job over); once both are gone, it stays Job:AttachMinutes after the lease's last renewal for
            // another client to attach to, then goes (a kept job, only once old).
            var (_, lease) = await JobLease.ReadNewestAsync(_cloud.Jobs, job, cancellationToken).ConfigureAwait(false);
            if (lease is not null)
            {
                DateTimeOffset now = _cloud.Time.GetUtcNow();
                bool driverGone = EndedHere(lease.Owner) || (!IsAlive(lease.Owner) && JobLease.Expired(lease, now));
                if (driverGone && await JobLease.CountAttachedAsync(_cloud.Jobs, job, now, cancellationToken: cancellationToken).ConfigureAwait(false) == 0
                    && (old || (!kept && now - lease.Renewed >= TimeSpan.FromMinutes(_cloud.Options.Job.AttachMinutes))))
                {
                    await _cloud.Jobs.DeletePrefixAsync(StorageLayout.Job(job), cancellationToken).ConfigureAwait(false);
                    deleted++;
                }

                continue;
            }

            // A young job without a manifest is being staged (its owner is unknown yet): left alone.
            if (old ? !IsAlive(owner) : !kept && EndedHere(owner))
            {
                await _cloud.Jobs.DeletePrefixAsync(StorageLayout.Job(job), cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }

        // Clients that left shared values, shuffles (a shuffle's id starts with its client's id) or their record behind,
        // in the job store and, for shuffles, in every named store.
        var clients = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        await AddClientsAsync(_cloud.Jobs, StorageLayout.SharedFolder, cutoff, clients, cancellationToken).ConfigureAwait(false);
        await AddClientsAsync(_cloud.Jobs, StorageLayout.ShufflesFolder, cutoff, clients, cancellationToken).ConfigureAwait(false);
        await AddClientsAsync(_cloud.Jobs, StorageLayout.ClientsFolder, cutoff, clients, cancellationToken).ConfigureAwait(false);
        foreach (NamedStore store in _cloud.Stores)
        {
            await AddClientsAsync(store.Internal, StorageLayout.ShufflesFolder, cutoff, clients, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (client, old) in clients)
        {
            byte[]? record = await _cloud.Jobs.GetAsync(StorageLayout.Client(client), cancellationToken).ConfigureAwait(false);
            string[] lines = record is null ? [] : Encoding.UTF8.GetString(record).Split('\n');
            string? owner = lines.Length > 0 ? lines[0] : null;
            bool kept = lines.Length > 1 && lines[1] == "keep";
            if (old ? !IsAlive(owner) : !kept && EndedHere(owner))
            {
                await _cloud.Jobs.DeletePrefixAsync(StorageLayout.ClientShared(client), cancellationToken).ConfigureAwait(false);
                await DeleteShufflesAsync(client, cancellationToken).ConfigureAwait(false);
                await _cloud.Jobs.DeleteAsync(StorageLayout.Client(client), cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>
    /// Whether <paramref name="owner"/> ran on this host and has certainly ended (so its data can go whatever its age):
    /// no process has its id, or the one that has started at another time (the id was reused). An owner whose start
    /// time was unknown, and this process, never count as ended.
    /// </summary>
    internal static bool EndedHere(string? owner) => StateOf(owner) == OwnerState.Ended;

    /// <summary>
    /// Whether the owner (<c>{host}/{pid}/{start ticks}</c>) still runs. Only an owner on this host can be checked; one on
    /// another host counts as gone once its data is older than the bound (a job does not run for a day).
    /// </summary>
    internal static bool IsAlive(string? owner) => StateOf(owner) == OwnerState.Alive;

    private enum OwnerState
    {
        /// <summary>Another host's, or not an owner at all.</summary>
        Elsewhere,

        /// <summary>On this host, and its process runs.</summary>
        Alive,

        /// <summary>On this host, and its process has ended.</summary>
        Ended,

        /// <summary>On this host, but its start time was not known when recorded: cannot be told.</summary>
        Unknown,
    }

    /// <summary>
    /// Process start times are compared with a tolerance: Linux derives them from the boot time, which moves when the
    /// clock is stepped, so the same process can read a start a little different later.
    /// </summary>
    private static readonly TimeSpan StartTolerance = TimeSpan.FromSeconds(10);

    private static OwnerState StateOf(string? owner)
    {
        string[]? parts = owner?.Split('/');
        if (parts is not { Length: 3 } || parts[0] != Environment.MachineName || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int pid)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long recorded))
        {
            return OwnerState.Elsewhere;
        }

        if (pid == Environment.ProcessId)
        {
            return OwnerState.Alive;
        }

        if (recorded == 0)
        {
            return OwnerState.Unknown;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            long current = process.StartTime.ToUniversalTime().Ticks;
            // The same process, or another that was given the id since: then the owner has ended.
            return Math.Abs(current - recorded) <= StartTolerance.Ticks ? OwnerState.Alive : OwnerState.Ended;
        }
        catch (ArgumentException)
        {
            // No process has that id.
            return OwnerState.Ended;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Exited while being looked at, or not readable: alive is the safe answer (its data stays).
            return OwnerState.Alive;
        }
    }
}
