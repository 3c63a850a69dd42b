using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Workers;

/// <summary>
/// What a launcher call (<c>Job:InvokeFrom=cloud</c>) carries and reads: its argument is the key of a staged list
/// (<see cref="StorageLayout.Launch"/>) and how many invocations it may have in flight; the list holds the envelopes of
/// the attempts it invokes, as JSON, one per line (an envelope's JSON holds no line break).
/// </summary>
internal static class LaunchList
{
    /// <summary>The signature hash of the launcher call: its version, checked as any function's.</summary>
    public const ulong SignatureHash = 0x6e65757472616c02;

    /// <summary>The list's bytes.</summary>
    public static byte[] Encode(IReadOnlyList<InvocationEnvelope> envelopes)
    {
        var buffer = new ArrayBufferWriter<byte>(envelopes.Count * 512);
        foreach (InvocationEnvelope envelope in envelopes)
        {
            buffer.Write(WireJson.Serialize(envelope));
            buffer.Write("\n"u8);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The launcher call's argument: the list's key and the invocations it may have in flight.</summary>
    public static byte[] Argument(string key, int concurrency)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CodecWriter(buffer);
        writer.WriteString(key);
        writer.WriteInt32(concurrency);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static (string Key, int Concurrency) ParseArgument(InvocationEnvelope launcher)
    {
        var reader = new CodecReader(launcher.InlineInput ?? throw new FormatException("A launcher call carries its list's key inline."));
        string key = reader.ReadNonNullString();
        int concurrency = reader.ReadInt32();
        reader.EnsureEnd();
        return (key, concurrency);
    }

    /// <summary>Reads the list a launcher call names, and its concurrency.</summary>
    /// <exception cref="FormatException">The launcher call's argument or the list is not what a client writes.</exception>
    /// <exception cref="MissingInputException">The list is gone (the job was cancelled and deleted).</exception>
    public static async Task<(InvocationEnvelope[] Envelopes, int Concurrency)> ReadAsync(IObjectStore root, InvocationEnvelope launcher, CancellationToken cancellationToken)
    {
        if (launcher.SignatureHashValue != SignatureHash)
        {
            throw new FormatException($"The launcher call's version {launcher.SignatureHash} is not this worker's ({InvocationEnvelope.FormatHash(SignatureHash)}): deploy the worker again from the client's build.");
        }

        (string key, int concurrency) = ParseArgument(launcher);
        if (!key.StartsWith(StorageLayout.Job(launcher.JobId) + "launch/", StringComparison.Ordinal) || concurrency < 1)
        {
            throw new FormatException($"A launcher call of job {launcher.JobId} names '{key}' with concurrency {concurrency}.");
        }

        var jobs = new PrefixedObjectStore(root, launcher.Store.Prefix);
        byte[] bytes = await jobs.GetAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new MissingInputException($"The launch list '{key}' of job {launcher.JobId} is missing: the job was cancelled or cleaned up.");
        var envelopes = new List<InvocationEnvelope>();
        ReadOnlySpan<byte> rest = bytes;
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            if (!line.IsEmpty)
            {
                InvocationEnvelope envelope = WireJson.DeserializeEnvelope(line);
                if (envelope.JobId != launcher.JobId || envelope.FunctionId == CallRunner.LaunchFunctionId)
                {
                    throw new FormatException($"The launch list '{key}' holds an envelope of job {envelope.JobId} ({envelope.FunctionId}).");
                }

                envelopes.Add(envelope);
            }
        }

        return (envelopes.ToArray(), concurrency);
    }
}
