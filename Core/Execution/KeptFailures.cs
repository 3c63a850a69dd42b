using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Failed calls kept for <c>neutral replay</c> (<c>Job:KeepFailedHours</c>): when a job ends, each failed call's last
/// envelope, its arguments inline, and its error go to <c>kept/{job}/{call}.json</c>, outside the job's folder, so that
/// the job's cleanup leaves them; a later client's housekeeping deletes them once expired.
/// </summary>
internal static class KeptFailures
{
    /// <summary>The most calls kept of one job (the first to fail): enough to debug, not a copy of a failed million.</summary>
    public const int Limit = 100;

    /// <summary>A call whose arguments are larger is not kept (its failure is still reported; Job:KeepData keeps everything).</summary>
    public const int MaxArgumentBytes = 4 << 20;

    /// <summary>The most argument bytes kept of one job.</summary>
    public const long MaxJobBytes = 64L << 20;

    /// <summary>How long the writes may take at the job's end: a store that does not answer must not hold the job's end up.</summary>
    public static readonly TimeSpan WriteLimit = TimeSpan.FromSeconds(15);

    /// <summary>Writes the failed calls of a job that ended (not when it was cancelled or interrupted); failures are logged, not thrown.</summary>
    public static async Task WriteAsync(CloudContext cloud, string jobId, EnvelopeFactory envelopes, IReadOnlyCollection<(int Index, RemoteException Error)> failures)
    {
        if (failures.Count == 0 || cloud.Options.Job.KeepFailedHours <= 0 || envelopes.Staging is not { } staging)
        {
            return;
        }

        DateTimeOffset now = cloud.Time.GetUtcNow();
        DateTimeOffset until = now + TimeSpan.FromHours(cloud.Options.Job.KeepFailedHours);
        // Built-in calls (the doctor's probe) and arguments beyond the bounds are not kept.
        long budget = MaxJobBytes;
        var keep = new List<(int Index, RemoteException Error)>();
        foreach (var failure in failures.OrderBy(f => f.Index))
        {
            int size = staging.Length(failure.Index);
            if (Workers.WorkerProbe.IsBuiltIn(envelopes.FunctionIdOf(failure.Index)) || size > MaxArgumentBytes || size > budget)
            {
                continue;
            }

            budget -= size;
            keep.Add(failure);
        }

        using var limit = new CancellationTokenSource(WriteLimit, cloud.Time);
        try
        {
            await Parallel.ForEachAsync(keep, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = limit.Token }, async (failure, cancellationToken) =>
            {
                if (envelopes.Build(failure.Index, Math.Max(1, failure.Error.Attempt), slot: null) is not { } envelope)
                {
                    return;
                }

                var kept = new KeptCall
                {
                    Call = envelope with { InlineInput = staging.Arguments(failure.Index).ToArray(), InputRange = null, Deadline = null, TraceParent = null },
                    Error = new RemoteError(KindOf(failure.Error), failure.Error.RemoteTypeName, failure.Error.Message, failure.Error.RemoteStackTrace),
                    Failed = now,
                    Until = until,
                };
                await cloud.Jobs.PutAsync(StorageLayout.Kept(jobId, failure.Index), WireJson.Serialize(kept), cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.CleanupFailed(cloud.Logger, e, jobId, "keeping its failed calls for replay: " + e.Message);
        }
    }

    /// <summary><c>user</c> for the method's own exceptions; <c>platform</c> for what the runtime or the client reported (a timeout, attempts lost).</summary>
    private static string KindOf(RemoteException error) =>
        error.RemoteTypeName.StartsWith("Neutral.", StringComparison.Ordinal) || error.RemoteTypeName == typeof(TimeoutException).FullName || error.RemoteStackTrace is null
            ? RemoteError.PlatformKind
            : RemoteError.UserKind;

    /// <summary>Deletes the kept calls of every job whose keeping time has passed; returns how many jobs' it deleted.</summary>
    public static async Task<int> SweepAsync(PrefixedObjectStore jobs, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var first = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (ObjectInfo info in jobs.ListAsync(StorageLayout.KeptFolder, cancellationToken).ConfigureAwait(false))
        {
            string rest = info.Key[StorageLayout.KeptFolder.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
            {
                first.TryAdd(rest[..slash], info.Key);
            }
        }

        int deleted = 0;
        foreach (var (job, key) in first)
        {
            bool expired;
            try
            {
                expired = await jobs.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } record || WireJson.DeserializeKept(record).Until < now;
            }
            catch (FormatException)
            {
                expired = true;
            }

            if (expired)
            {
                await jobs.DeletePrefixAsync(StorageLayout.Kept(job), cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }

        return deleted;
    }
}
