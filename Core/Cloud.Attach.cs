using System;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Wire;

namespace Neutral;

/// <summary>Attaching to a job another client (or another run of this application) submitted.</summary>
public sealed partial class Cloud
{
    /// <summary>
    /// The job <paramref name="jobId"/>, submitted by another client on this store (or by this application before it was
    /// killed), with its futures, progress and results, as <see cref="Submit{T}"/> would have returned it. While the
    /// client that drives the job renews its lease, this one observes: it lists the job's outcomes and launches nothing.
    /// Once that lease has not been renewed for <c>Job:LeaseSeconds</c>, this client takes the job over (one attached
    /// client does): it relaunches every call without an outcome, and retries, speculates and cleans up as the driver.
    /// </summary>
    /// <typeparam name="T">The job's result type: the function's, as the manifest names it.</typeparam>
    /// <param name="jobId">The job's id (<see cref="RemoteJob{T}.JobId"/>, or <c>neutral jobs</c>).</param>
    /// <param name="cancellationToken">Cancels reading the job.</param>
    /// <exception cref="InvalidOperationException">
    /// No such job in this store; its function is not in this process, returns another type than
    /// <typeparamref name="T"/>, or was built differently; or the job cannot be attached to (calls that take other
    /// calls' results, a manifest from before attaching existed).
    /// </exception>
    /// <remarks>
    /// <see cref="RemoteJob{T}.CancelAsync"/> on an attached job that this client does not drive stops this client's
    /// view (its futures are cancelled); the job goes on for its driver.
    /// </remarks>
    public async Task<RemoteJob<T>> AttachAsync<T>(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        string place = $"{_context.Location.Kind} store '{_context.Location.Bucket}'";
        byte[] manifestBytes;
        try
        {
            manifestBytes = await _context.Jobs.GetAsync(StorageLayout.Manifest(jobId), cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"There is no job {jobId} in the {place}: it ended and its data was cleaned up, it was submitted to another store, or the id is mistyped.");
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"'{jobId}' is not a job id: {e.Message}", e);
        }

        JobManifest manifest = WireJson.DeserializeManifest(manifestBytes);
        if (manifest.HasInputs)
        {
            throw new InvalidOperationException($"Job {jobId} has calls that take other calls' results; those wait in the client that submitted them, so the job cannot be attached to.");
        }

        RemoteFunction<T>[] functions = manifest.MixedFunctions
            ? FunctionsOf<T>(manifest)
            : [FunctionOf<T>(manifest.JobId, manifest.FunctionId, manifest.SignatureHash)];
        byte[] input = await _context.Jobs.GetAsync(StorageLayout.Input(jobId), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Job {jobId} has no stored arguments (input.bin): it was submitted by a Neutral older than attaching, or its data is being cleaned up.");
        JobStaging staging;
        try
        {
            staging = JobStaging.FromStored(manifest, input);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }

        var (runner, results) = JobRunner.Attach(_context, manifest, functions, staging);
        var job = new RemoteJob<T>(runner, results);
        lock (_jobsLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            _jobs.TryAdd(runner.Finished, runner);
        }

        runner.Start();
        _ = runner.Finished.ContinueWith(t => _jobs.TryRemove(t, out _), TaskScheduler.Default);
        return job;
    }

    /// <summary>
    /// Each call's function in a job of several functions (<see cref="JobManifest.Functions"/> and
    /// <see cref="JobManifest.FunctionRuns"/>), each checked as <see cref="FunctionOf{T}"/> does.
    /// </summary>
    private static RemoteFunction<T>[] FunctionsOf<T>(JobManifest manifest)
    {
        if (manifest.Functions is not { Length: > 0 } listed || manifest.FunctionRuns is not { } runs)
        {
            throw new InvalidOperationException($"Job {manifest.JobId} calls several functions, and its manifest does not say which call runs which: it was submitted by a Neutral older than attaching to such jobs.");
        }

        if (runs.Length == 0 || runs.Length % 2 != 0 || runs[0] != 0)
        {
            throw new InvalidOperationException($"The function runs of job {manifest.JobId}'s manifest are malformed: pairs of (first call, function) starting at call 0 were expected.");
        }

        var resolved = new RemoteFunction<T>[listed.Length];
        for (int f = 0; f < listed.Length; f++)
        {
            resolved[f] = FunctionOf<T>(manifest.JobId, listed[f].Id, listed[f].SignatureHash);
        }

        var functions = new RemoteFunction<T>[manifest.CallCount];
        for (int r = 0; r < runs.Length; r += 2)
        {
            int from = runs[r], to = r + 2 < runs.Length ? runs[r + 2] : manifest.CallCount, which = runs[r + 1];
            if (from >= to || to > manifest.CallCount || (uint)which >= (uint)resolved.Length)
            {
                throw new InvalidOperationException($"The function runs of job {manifest.JobId}'s manifest are malformed at call {from}: runs go forwards, within its {manifest.CallCount} calls and its {resolved.Length} functions.");
            }

            Array.Fill(functions, resolved[which], from, to - from);
        }

        return functions;
    }

    /// <summary>A function a manifest names, as this process registered it, checked against <typeparamref name="T"/> and the signature.</summary>
    private static RemoteFunction<T> FunctionOf<T>(string jobId, string functionId, string signatureHash)
    {
        var found = RemoteFunctions.Find(functionId);
        if (found.Count == 0)
        {
            throw new InvalidOperationException(
                $"Job {jobId} runs {functionId}, which is not in this process: reference the assembly that defines it (and use one of its stubs, or RemoteFunctions.Register its functions) before attaching.");
        }

        ulong wanted = InvocationEnvelope.ParseHash(signatureHash);
        RemoteFunction? same = null;
        foreach (RemoteFunction function in found)
        {
            if (function.SignatureHash == wanted)
            {
                same = function;
            }
        }

        if (same is null)
        {
            throw new InvalidOperationException(
                $"Job {jobId} runs {functionId} with signature {signatureHash}; this build's has {InvocationEnvelope.FormatHash(found[0].SignatureHash)}: the method or its types changed since the job was submitted.");
        }

        return same as RemoteFunction<T> ?? throw new InvalidOperationException(
            $"Job {jobId} runs {functionId}, which returns {ResultTypeOf(same)}, not {typeof(T).Name}: attach with AttachAsync<{ResultTypeOf(same)}>.");
    }

    private static string ResultTypeOf(RemoteFunction function)
    {
        Type type = function.GetType();
        return type.IsGenericType ? type.GetGenericArguments()[0].Name : "an unknown type";
    }
}
