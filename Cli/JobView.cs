using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Cli;

/// <summary>One call of a stored job, as its objects tell: its attempts, its status once it has one, its newest failure.</summary>
/// <param name="Index">The call's index.</param>
/// <param name="Attempts">The attempts that started (their <c>started.{a}</c> markers).</param>
/// <param name="Status">The call's outcome, once it has one.</param>
/// <param name="FailedAttempts">Every failed attempt's record, when asked for (logs).</param>
/// <param name="LastFailure">The newest failed attempt's record, when the call has no status.</param>
/// <param name="Over">Whether the job's client is gone (nobody will retry a failed attempt any more).</param>
internal sealed record CallView(int Index, int Attempts, StatusRecord? Status, IReadOnlyList<StatusRecord> FailedAttempts, StatusRecord? LastFailure, bool Over)
{
    /// <summary>
    /// succeeded or failed (its status says so, or its newest attempt failed in a way a retry could fix and its client
    /// is gone); retrying (that, with the client still there); running (an attempt started, no outcome); pending.
    /// </summary>
    public string State => Status is { } status ? (status.Succeeded ? "succeeded" : "failed")
        : LastFailure is { } failure && failure.Attempt >= Attempts ? (Over ? "failed" : "retrying")
        : Attempts > 0 ? "running" : "pending";

    /// <summary>The error to show: the status's, else the newest failed attempt's.</summary>
    public RemoteError? Error => Status?.Error ?? LastFailure?.Error;
}

/// <summary>A job as its folder in the store holds it: the manifest, and each call's objects.</summary>
internal sealed record JobView(string Id, JobManifest? Manifest, IReadOnlyList<CallView> Calls)
{
    /// <summary>When the job was created: the manifest's time, else the one its id starts with.</summary>
    public DateTimeOffset? Created => Manifest?.Created is { } created && created != default ? created : JobCleanup.CreatedOf(Id);

    private static readonly System.Buffers.SearchValues<char> JobIdCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    public int Count(string state) => Calls.Count(c => c.State == state);

    /// <summary>The ids of the jobs in the store, oldest first.</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(PrefixedObjectStore store, CancellationToken cancellationToken)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (ObjectInfo info in store.ListAsync(StorageLayout.JobsFolder, cancellationToken))
        {
            string rest = info.Key[StorageLayout.JobsFolder.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            // A folder that is not a job's (no job id has other characters) is not listed.
            if (slash > 0 && rest.AsSpan(0, slash).IndexOfAnyExcept(JobIdCharacters) < 0)
            {
                ids.Add(rest[..slash]);
            }
        }

        return [.. ids];
    }

    /// <summary>The calls of job <paramref name="id"/> kept for replay (<c>kept/{id}/{call}.json</c>), in order.</summary>
    public static async Task<IReadOnlyList<int>> KeptCallsAsync(PrefixedObjectStore store, string id, CancellationToken cancellationToken)
    {
        var kept = new List<int>();
        await foreach (ObjectInfo info in store.ListAsync(StorageLayout.Kept(id), cancellationToken))
        {
            if (int.TryParse(System.IO.Path.GetFileNameWithoutExtension(info.Key), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int call))
            {
                kept.Add(call);
            }
        }

        kept.Sort();
        return kept;
    }

    /// <summary>Reads job <paramref name="id"/>; null when the store holds nothing of it.</summary>
    /// <param name="store">Neutral's key space of the store.</param>
    /// <param name="id">The job id.</param>
    /// <param name="failures">Whether to read each failed attempt's record too (for logs).</param>
    /// <param name="cancellationToken">Stops the reads.</param>
    public static async Task<JobView?> ReadAsync(PrefixedObjectStore store, string id, bool failures, CancellationToken cancellationToken)
    {
        string folder;
        try
        {
            folder = StorageLayout.Job(id);
        }
        catch (ArgumentException)
        {
            throw new ToolException($"'{id}' is not a job id (they look like 20261206-051430-b2d4104b82; neutral jobs lists them).");
        }

        var attempts = new SortedDictionary<int, (int Started, bool Status, List<int> Failed)>();
        bool any = false;
        string slots = StorageLayout.Slots(id);
        await foreach (ObjectInfo info in store.ListAsync(folder, cancellationToken))
        {
            any = true;
            if (info.Key.StartsWith(slots, StringComparison.Ordinal))
            {
                // Protocol version 3: an attempt's start is a marker in its launch slot.
                int slash = info.Key.LastIndexOf('/');
                if (StorageLayout.TryParseSlotMarker(info.Key.AsSpan(slash + 1), out int call, out _, out char kind) && kind == 's')
                {
                    var started = attempts.TryGetValue(call, out var known) ? known : (0, false, []);
                    started.Started++;
                    attempts[call] = started;
                }

                continue;
            }

            if (!StorageLayout.TryParseCallKey(id, info.Key, out int index, out string name))
            {
                continue;
            }

            (int Started, bool Status, List<int> Failed) entry = attempts.TryGetValue(index, out var found) ? found : (0, false, []);
            if (name.StartsWith("started.", StringComparison.Ordinal))
            {
                entry.Started++;
            }
            else if (name == "status")
            {
                entry.Status = true;
            }
            else if (name.StartsWith("failed.", StringComparison.Ordinal) && int.TryParse(name.AsSpan("failed.".Length), out int attempt))
            {
                entry.Failed.Add(attempt);
            }

            attempts[index] = entry;
        }

        if (!any)
        {
            return null;
        }

        JobManifest? manifest = null;
        if (await store.GetAsync(StorageLayout.Manifest(id), cancellationToken) is { } bytes)
        {
            try
            {
                manifest = WireJson.DeserializeManifest(bytes);
            }
            catch (FormatException)
            {
                // A manifest being written, or of another version: the calls' objects still tell their story.
            }
        }

        int count = Math.Max(manifest?.CallCount ?? 0, attempts.Count == 0 ? 0 : attempts.Keys.Max() + 1);
        bool over = manifest?.Owner is not { } owner || !JobCleanup.IsAlive(owner);
        var calls = new CallView[count];
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var (started, hasStatus, failed) = attempts.TryGetValue(i, out var entry) ? entry : (0, false, []);
                StatusRecord? status = hasStatus ? await ReadStatusAsync(store, StorageLayout.Status(id, i), cancellationToken) : null;
                var failedRecords = new List<StatusRecord>();
                StatusRecord? last = null;
                foreach (int attempt in failed.Order())
                {
                    // Every failed attempt for logs; else only the newest, when there is no status to tell the outcome.
                    bool newest = attempt == failed.Max();
                    if ((failures || (newest && status is null)) && await ReadStatusAsync(store, StorageLayout.Failed(id, i, attempt), cancellationToken) is { } record)
                    {
                        failedRecords.Add(record);
                        last = newest ? record : last;
                    }
                }

                calls[i] = new CallView(i, started, status, failures ? failedRecords : [], status is null ? last : null, over);
            }
            finally
            {
                gate.Release();
            }
        }));
        return new JobView(id, manifest, calls);
    }

    private static async Task<StatusRecord?> ReadStatusAsync(PrefixedObjectStore store, string key, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(key, cancellationToken) is not { } bytes)
        {
            return null;
        }

        try
        {
            return WireJson.DeserializeStatus(bytes);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
