using System;
using System.Buffers;
using System.Collections.Generic;
using Neutral.Codec;
using Neutral.Wire;

namespace Neutral.Workers.Local;

/// <summary>
/// The envelope on the local pipe, in Neutral's binary codec rather than JSON: the same fields, but no JSON
/// machinery to warm up in a worker's first call (the cloud providers send the JSON form).
/// </summary>
internal static class LocalEnvelope
{
    /// <summary>Encodes an envelope.</summary>
    public static byte[] Encode(InvocationEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var buffer = new ArrayBufferWriter<byte>(256 + (envelope.InlineInput?.Length ?? 0));
        var writer = new CodecWriter(buffer);
        writer.WriteInt32(envelope.Version);
        writer.WriteString(envelope.JobId);
        writer.WriteInt32(envelope.CallIndex);
        writer.WriteString(envelope.FunctionId);
        writer.WriteString(envelope.SignatureHash);
        writer.WriteUnmanagedArray(envelope.InlineInput);
        writer.WritePresence(envelope.InputRange is not null);
        if (envelope.InputRange is { } range)
        {
            writer.WriteString(range.Key);
            writer.WriteInt64(range.Offset);
            writer.WriteInt32(range.Length);
        }

        writer.WriteInt32(envelope.Attempt);
        writer.WritePresence(envelope.Deadline is not null);
        if (envelope.Deadline is { } deadline)
        {
            writer.WriteDateTimeOffset(deadline);
        }

        writer.WriteBoolean(envelope.RetryUserErrors);
        writer.WriteInt32(envelope.TimeoutSeconds ?? 0);
        writer.WriteString(envelope.Store.Kind);
        writer.WriteString(envelope.Store.Bucket);
        writer.WriteString(envelope.Store.Prefix);
        writer.WriteString(envelope.Assembly);
        writer.WriteInt32(envelope.Stores?.Count ?? 0);
        foreach (var (name, location) in envelope.Stores ?? new Dictionary<string, StoreLocation>())
        {
            writer.WriteString(name);
            writer.WriteString(location.Kind);
            writer.WriteString(location.Bucket);
            writer.WriteString(location.Prefix);
        }

        writer.WriteInt32(envelope.Slot ?? -1);
        writer.WriteInt32(envelope.From?.Count ?? 0);
        foreach (InputSource source in envelope.From ?? [])
        {
            writer.WriteInt32(source.Offset);
            writer.WriteString(source.JobId);
            writer.WriteInt32(source.CallIndex);
            writer.WriteString(source.Parameter);
        }

        if (envelope.TraceParent is { } trace)
        {
            // Last and only when set.
            writer.WriteString(trace);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes an envelope.</summary>
    /// <exception cref="CodecException">The bytes are not an envelope.</exception>
    public static InvocationEnvelope Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new CodecReader(payload);
        int version = reader.ReadInt32();
        string job = reader.ReadNonNullString();
        int call = reader.ReadInt32();
        string function = reader.ReadNonNullString();
        string hash = reader.ReadNonNullString();
        byte[]? inline = reader.ReadUnmanagedArray<byte>();
        InputRange? range = reader.ReadPresence() ? new InputRange(reader.ReadNonNullString(), reader.ReadInt64(), reader.ReadInt32()) : null;
        int attempt = reader.ReadInt32();
        DateTimeOffset? deadline = reader.ReadPresence() ? reader.ReadDateTimeOffset() : null;
        bool retryUser = reader.ReadBoolean();
        int timeout = reader.ReadInt32();
        var store = new StoreLocation(reader.ReadNonNullString(), reader.ReadNonNullString(), reader.ReadNonNullString());
        string? assembly = reader.ReadString();
        int named = reader.ReadInt32();
        Dictionary<string, StoreLocation>? stores = named > 0 ? new(StringComparer.Ordinal) : null;
        for (int i = 0; i < named; i++)
        {
            stores![reader.ReadNonNullString()] = new StoreLocation(reader.ReadNonNullString(), reader.ReadNonNullString(), reader.ReadNonNullString());
        }

        int slot = reader.ReadInt32();
        int inputs = reader.ReadInt32();
        InputSource[]? from = inputs > 0 ? new InputSource[inputs] : null;
        for (int i = 0; i < inputs; i++)
        {
            from![i] = new InputSource(reader.ReadInt32(), reader.ReadNonNullString(), reader.ReadInt32(), reader.ReadString());
        }

        string? trace = reader.Remaining > 0 ? reader.ReadString() : null;
        reader.EnsureEnd();
        return new InvocationEnvelope
        {
            Version = version,
            JobId = job,
            CallIndex = call,
            FunctionId = function,
            SignatureHash = hash,
            InlineInput = inline,
            InputRange = range,
            Attempt = attempt,
            Deadline = deadline,
            RetryUserErrors = retryUser,
            TimeoutSeconds = timeout > 0 ? timeout : null,
            Store = store,
            Assembly = assembly,
            Stores = stores,
            TraceParent = trace,
            Slot = slot >= 0 ? slot : null,
            From = from,
        };
    }
}
