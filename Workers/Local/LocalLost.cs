using System;
using System.Buffers;
using Neutral.Codec;

namespace Neutral.Workers.Local;

/// <summary>
/// The payload of a <see cref="LocalFrameType.Lost"/> frame: the worker could not finish an attempt and wrote no status
/// (storage failed even for the status), so the client should retry it now rather than at its deadline.
/// </summary>
internal static class LocalLost
{
    /// <summary>The most characters of a reason sent.</summary>
    public const int ReasonLimit = 4096;

    /// <summary>Encodes a lost attempt.</summary>
    public static byte[] Encode(string jobId, int callIndex, int attempt, string reason)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(reason);
        var buffer = new ArrayBufferWriter<byte>(64 + reason.Length);
        var writer = new CodecWriter(buffer);
        writer.WriteString(jobId);
        writer.WriteInt32(callIndex);
        writer.WriteInt32(attempt);
        writer.WriteString(RemoteErrors.Truncate(reason, ReasonLimit));
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a lost attempt.</summary>
    /// <exception cref="CodecException">The payload is not a lost attempt.</exception>
    public static (string JobId, int CallIndex, int Attempt, string Reason) Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new CodecReader(payload);
        var lost = (reader.ReadNonNullString(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadNonNullString());
        reader.EnsureEnd();
        return lost;
    }
}
