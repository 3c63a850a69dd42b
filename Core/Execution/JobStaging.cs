using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// A job's arguments packed once, off the caller's thread: one array of every call's encoded arguments and their
/// offsets (the user's <see cref="RemoteCall{TResult}"/>s are not kept), written as <c>input.bin</c> when some call's
/// arguments are too large for its envelope, and the manifest.
/// </summary>
internal sealed class JobStaging
{
    private JobStaging(byte[] packed, long[] offsets, bool large)
    {
        Packed = packed;
        Offsets = offsets;
        Large = large;
    }

    /// <summary>Every call's arguments, back to back.</summary>
    public byte[] Packed { get; }

    /// <summary>Call i's arguments start at Offsets[i] and end at Offsets[i + 1].</summary>
    public long[] Offsets { get; }

    /// <summary>Whether <c>input.bin</c> was written (some call's arguments exceed the inline limit).</summary>
    public bool Large { get; }

    public int Length(int index) => (int)(Offsets[index + 1] - Offsets[index]);

    public ReadOnlyMemory<byte> Arguments(int index) => Packed.AsMemory((int)Offsets[index], Length(index));

    public static JobStaging Pack<T>(RemoteCall<T>[] calls)
    {
        var offsets = new long[calls.Length + 1];
        long total = 0;
        bool large = false;
        for (int i = 0; i < calls.Length; i++)
        {
            offsets[i] = total;
            total += calls[i].Arguments.Length;
            large |= calls[i].Arguments.Length > InvocationEnvelope.InlineLimit;
        }

        offsets[^1] = total;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"The job's arguments add up to {total} bytes; one job holds at most {Array.MaxLength}. Pass large data with Cloud.ShareAsync or through storage.");
        }

        byte[] packed = GC.AllocateUninitializedArray<byte>((int)total);
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i].Arguments.Span.CopyTo(packed.AsSpan((int)offsets[i]));
        }

        return new JobStaging(packed, offsets, large);
    }

    /// <summary>
    /// Writes <c>input.bin</c> and the manifest. The arguments are stored even when every call's fit its envelope: a
    /// client that attaches to the job (<c>Cloud.AttachAsync</c>) relaunches calls from them.
    /// </summary>
    public async Task WriteAsync(IObjectStore jobs, JobManifest manifest, CancellationToken cancellationToken)
    {
        await jobs.PutAsync(StorageLayout.Input(manifest.JobId), Packed, cancellationToken).ConfigureAwait(false);
        await jobs.PutAsync(StorageLayout.Manifest(manifest.JobId), WireJson.Serialize(manifest with { InputOffsets = Offsets }), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The arguments of a job another client staged, as its manifest and <c>input.bin</c> hold them.</summary>
    /// <exception cref="FormatException">The offsets do not fit the object.</exception>
    public static JobStaging FromStored(JobManifest manifest, byte[] packed)
    {
        long[] offsets = manifest.InputOffsets ?? throw new FormatException($"The manifest of job {manifest.JobId} has no argument offsets: it was written before jobs could be attached to.");
        if (offsets.Length != manifest.CallCount + 1 || offsets[^1] != packed.Length || offsets[0] != 0)
        {
            throw new FormatException($"The argument offsets of job {manifest.JobId} do not fit its {packed.Length}-byte input object.");
        }

        bool large = false;
        for (int i = 0; i < manifest.CallCount; i++)
        {
            long length = offsets[i + 1] - offsets[i];
            if (length < 0)
            {
                throw new FormatException($"The argument offsets of job {manifest.JobId} go backwards at call {i}.");
            }

            large |= length > InvocationEnvelope.InlineLimit;
        }

        return new JobStaging(packed, offsets, large);
    }

    /// <summary>Which call runs which function, as runs of calls (a job mixes a few functions, usually in blocks).</summary>
    private static (JobFunction[] Functions, int[] Runs) FunctionRunsOf(IResultSink sink)
    {
        var functions = new System.Collections.Generic.List<JobFunction>();
        var indexOf = new System.Collections.Generic.Dictionary<RemoteFunction, int>(System.Collections.Generic.ReferenceEqualityComparer.Instance);
        var runs = new System.Collections.Generic.List<int>();
        int current = -1;
        for (int i = 0; i < sink.Count; i++)
        {
            RemoteFunction function = sink.FunctionOf(i);
            if (!indexOf.TryGetValue(function, out int index))
            {
                index = functions.Count;
                indexOf[function] = index;
                functions.Add(new JobFunction { Id = function.Id, SignatureHash = InvocationEnvelope.FormatHash(function.SignatureHash) });
            }

            if (index != current)
            {
                runs.Add(i);
                runs.Add(index);
                current = index;
            }
        }

        return (functions.ToArray(), runs.ToArray());
    }

    /// <summary>A deployed backend's check of its tables: a stale deployment fails the job once, not each call in a worker.</summary>
    public static async Task VerifyDeploymentAsync(CloudContext cloud, IResultSink sink, CancellationToken cancellationToken)
    {
        if (cloud.Backend is IDeployedComputeBackend deployed)
        {
            // Functions built into every worker (neutral doctor's probe) are not in the deployed tables.
            var functions = sink.Functions.Where(f => !Workers.WorkerProbe.IsBuiltIn(f.Id)).Select(f => new Dispatch.RemoteFunctionInfo(f.Id, f.SignatureHash)).Distinct().ToArray();
            await deployed.VerifyDeploymentAsync(functions, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Packs the job's calls and writes its manifest (and <c>input.bin</c>).</summary>
    public static async Task<JobStaging> StageAsync(CloudContext cloud, IResultSink sink, string jobId, DateTimeOffset submitted, bool hasInputs, CancellationToken cancellationToken)
    {
        JobStaging staging = sink.Pack();
        var manifest = new JobManifest
        {
            JobId = jobId,
            FunctionId = sink.First.Id,
            SignatureHash = InvocationEnvelope.FormatHash(sink.First.SignatureHash),
            CallCount = sink.Count,
            ClientVersion = typeof(JobStaging).Assembly.GetName().Version?.ToString() ?? "0",
            Owner = cloud.Owner,
            Created = submitted,
            Kept = cloud.Options.Job.KeepData,
            MixedFunctions = sink.Functions.Count > 1,
            HasInputs = hasInputs,
        };
        if (manifest.MixedFunctions)
        {
            var (functions, runs) = FunctionRunsOf(sink);
            manifest = manifest with { Functions = functions, FunctionRuns = runs };
        }

        await staging.WriteAsync(cloud.Jobs, manifest, cancellationToken).ConfigureAwait(false);
        return staging;
    }
}
