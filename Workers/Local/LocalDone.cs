using System;
using System.Buffers;
using Neutral.Codec;

namespace Neutral.Workers.Local;

/// <summary>The payload of a <see cref="LocalFrameType.Done"/> frame.</summary>
internal static class LocalDone
{
    /// <summary>
    /// Encodes an outcome, at most <see cref="LocalFrames.MaxPayload"/> bytes: a status too large to travel in the
    /// frame is left out (the hint is then only "done", and the client reads the status from storage).
    /// </summary>
    public static byte[] Encode(CallOutcome outcome)
    {
        byte[] payload = EncodeWhole(outcome);
        return payload.Length <= LocalFrames.MaxPayload || outcome.Status is null ? payload : EncodeWhole(outcome with { Status = null });
    }

    private static byte[] EncodeWhole(CallOutcome outcome)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new CodecWriter(buffer);
        writer.WriteString(outcome.JobId);
        writer.WriteInt32(outcome.CallIndex);
        writer.WriteInt32(outcome.Attempt);
        writer.WriteBoolean(outcome.Succeeded);
        writer.WriteBoolean(outcome.StatusCreated);
        writer.WriteString(outcome.ErrorKind);
        writer.WriteUnmanagedArray(outcome.Status);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes an outcome.</summary>
    /// <exception cref="CodecException">The payload is not an outcome.</exception>
    public static CallOutcome Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new CodecReader(payload);
        var outcome = new CallOutcome(reader.ReadNonNullString(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadBoolean(), reader.ReadBoolean(), reader.ReadString(), reader.ReadUnmanagedArray<byte>());
        reader.EnsureEnd();
        return outcome;
    }
}
