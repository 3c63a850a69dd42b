using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Cli;

/// <summary>One call of a stored job, as its objects tell: its attempts, and its status once it has one.</summary>
internal sealed record CallView(int Index, int Attempts, StatusRecord? Status, IReadOnlyList<StatusRecord> FailedAttempts)
{
    /// <summary>succeeded, failed, running (an attempt started, no status yet) or pending (none started).</summary>
    public string State => Status is { } status ? (status.Succeeded ? "succeeded" : "failed") : Attempts > 0 ? "running" : "pending";
}

/// <summary>A job as its folder in the store holds it: the manifest, and each call's objects.</summary>
internal sealed record JobView(string Id, JobManifest? Manifest, IReadOnlyList<CallView> Calls)
{
    /// <summary>When the job was created: the manifest's time, else the one its id starts with.</summary>
    public DateTimeOffset? Created => Manifest?.Created is { } created && created != default ? created : JobCleanup.CreatedOf(Id);

    public int Count(string state) => Calls.Count(c => c.State == state);

    /// <summary>The ids of the jobs in the store, oldest first.</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(PrefixedObjectStore store, CancellationToken cancellationToken)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (ObjectInfo info in store.ListAsync(StorageLayout.JobsFolder, cancellationToken))
        {
            string rest = info.Key[StorageLayout.JobsFolder.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
            {
                ids.Add(rest[..slash]);
            }
        }

        return [.. ids];
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
        await foreach (ObjectInfo info in store.ListAsync(folder, cancellationToken))
        {
            any = true;
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
                if (failures)
                {
                    foreach (int attempt in failed.Order())
                    {
                        if (await ReadStatusAsync(store, StorageLayout.Failed(id, i, attempt), cancellationToken) is { } record)
                        {
                            failedRecords.Add(record);
                        }
                    }
                }

                calls[i] = new CallView(i, started, status, failedRecords);
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
