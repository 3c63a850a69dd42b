using System;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace Neutral.Wire;

/// <summary>
/// A small success's status carried in the name of its status marker (protocol version 4): the client that lists the
/// marker has the outcome without reading the status object, one round trip less a call. Only a success with its result
/// inline, no captured log and a short host fits; anything else gets a bare marker, and the client reads the status.
/// The payload is a copy of the status object this attempt created (create-only, so the object a read would return), in
/// a compact binary form: a format byte, flags (cold start, host present), the start in UTC ticks (8 bytes), then as
/// unsigned LEB128 the run time in ticks, bytes in and bytes out, the host's length and UTF-8 bytes, and last the result's
/// bytes; base64url without padding.
/// </summary>
public static class MarkerStatus
{
    /// <summary>
    /// The longest payload, in characters: a marker's name stays under 255 bytes, the limit of one path segment on a
    /// file system (the file store, MinIO on disk).
    /// </summary>
    public const int MaxChars = 160;

    private const byte Format = 1;
    private const byte Cold = 1;
    private const byte HasHost = 2;

    /// <summary>The payload for <paramref name="status"/>, or <see langword="null"/> when it does not fit or is not a plain success.</summary>
    public static string? Encode(StatusRecord status)
    {
        ArgumentNullException.ThrowIfNull(status);
        long run = (status.WorkerEnd - status.WorkerStart).Ticks;
        if (!status.Succeeded || status.Error is not null || status.OutputKey is not null || status.InlineResult is not { } result
            || !string.IsNullOrEmpty(status.Log) || run < 0 || status.BytesIn < 0 || status.BytesOut < 0)
        {
            return null;
        }

        int hostBytes = status.Host is null ? 0 : Encoding.UTF8.GetByteCount(status.Host);
        int most = MaxChars * 3 / 4;
        if (result.Length + hostBytes + 2 + 8 + 4 * 10 > most + 64)
        {
            return null; // plainly too long: spare the encoding
        }

        Span<byte> buffer = stackalloc byte[256];
        int at = 0;
        buffer[at++] = Format;
        buffer[at++] = (byte)((status.ColdStart ? Cold : 0) | (status.Host is null ? 0 : HasHost));
        BinaryPrimitives.WriteInt64LittleEndian(buffer[at..], status.WorkerStart.UtcTicks);
        at += 8;
        at += WriteVarint(buffer[at..], (ulong)run);
        at += WriteVarint(buffer[at..], (ulong)status.BytesIn);
        at += WriteVarint(buffer[at..], (ulong)status.BytesOut);
        at += WriteVarint(buffer[at..], (ulong)hostBytes);
        if (at + hostBytes + result.Length > most)
        {
            return null;
        }

        if (status.Host is not null)
        {
            at += Encoding.UTF8.GetBytes(status.Host, buffer[at..]);
        }

        result.CopyTo(buffer[at..]);
        at += result.Length;
        return Base64Url.EncodeToString(buffer[..at]);
    }

    /// <summary>
    /// The status a marker's <paramref name="payload"/> carries for attempt <paramref name="attempt"/> of call
    /// <paramref name="callIndex"/>, or <see langword="null"/> when the payload is not one this version reads (the client
    /// then reads the status object).
    /// </summary>
    public static StatusRecord? Decode(ReadOnlySpan<char> payload, string jobId, int callIndex, int attempt)
    {
        if (payload.IsEmpty || payload.Length > MaxChars || !Base64Url.IsValid(payload))
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[MaxChars];
        if (!Base64Url.TryDecodeFromChars(payload, bytes, out int length) || length < 2 + 8)
        {
            return null;
        }

        ReadOnlySpan<byte> data = bytes[..length];
        if (data[0] != Format)
        {
            return null;
        }

        byte flags = data[1];
        long startTicks = BinaryPrimitives.ReadInt64LittleEndian(data[2..]);
        int at = 10;
        if (startTicks < DateTimeOffset.MinValue.UtcTicks || startTicks > DateTimeOffset.MaxValue.UtcTicks
            || !TryReadVarint(data, ref at, out ulong run) || !TryReadVarint(data, ref at, out ulong bytesIn)
            || !TryReadVarint(data, ref at, out ulong bytesOut) || !TryReadVarint(data, ref at, out ulong hostLength)
            || hostLength > (ulong)(data.Length - at) || run > (ulong)(DateTimeOffset.MaxValue.UtcTicks - startTicks)
            || bytesIn > long.MaxValue || bytesOut > long.MaxValue)
        {
            return null;
        }

        string? host = (flags & HasHost) != 0 ? Encoding.UTF8.GetString(data.Slice(at, (int)hostLength)) : null;
        at += (int)hostLength;
        var start = new DateTimeOffset(startTicks, TimeSpan.Zero);
        return new StatusRecord
        {
            JobId = jobId,
            CallIndex = callIndex,
            Attempt = attempt,
            Succeeded = true,
            InlineResult = data[at..].ToArray(),
            WorkerStart = start,
            WorkerEnd = start.AddTicks((long)run),
            ColdStart = (flags & Cold) != 0,
            Host = host,
            BytesIn = (long)bytesIn,
            BytesOut = (long)bytesOut,
        };
    }

    private static int WriteVarint(Span<byte> into, ulong value)
    {
        int at = 0;
        while (value >= 0x80)
        {
            into[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        into[at++] = (byte)value;
        return at;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int at, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < data.Length; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
