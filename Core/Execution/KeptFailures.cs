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

    /// <summary>Writes the failed calls of a job that ended (not when it was cancelled or interrupted); failures are logged, not thrown.</summary>
    public static async Task WriteAsync(CloudContext cloud, string jobId, EnvelopeFactory envelopes, IReadOnlyCollection<(int Index, RemoteException Error)> failures)
    {
        if (failures.Count == 0 || cloud.Options.Job.KeepFailedHours <= 0 || envelopes.Staging is not { } staging)
        {
            return;
        }

        DateTimeOffset now = cloud.Time.GetUtcNow();
        DateTimeOffset until = now + TimeSpan.FromHours(cloud.Options.Job.KeepFailedHours);
        try
        {
            await Parallel.ForEachAsync(failures, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (failure, cancellationToken) =>
            {
                if (envelopes.Build(failure.Index, Math.Max(1, failure.Error.Attempt)) is not { } envelope)
                {
                    return;
                }

                var kept = new KeptCall
                {
                    Call = envelope with { InlineInput = staging.Arguments(failure.Index).ToArray(), InputRange = null, Deadline = null, TraceParent = null },
                    Error = new RemoteError(RemoteError.UserKind, failure.Error.RemoteTypeName, failure.Error.Message, failure.Error.RemoteStackTrace),
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
