using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Workers.Local;

/// <summary>The kinds of frame on a local worker's pipes.</summary>
internal enum LocalFrameType : byte
{
    /// <summary>Client to worker: run the envelope (<see cref="LocalEnvelope"/> binary form).</summary>
    Invoke = 1,

    /// <summary>Client to worker: cancel the running call if it belongs to this job (UTF-8 job id).</summary>
    Cancel = 2,

    /// <summary>Client to worker: finish and exit.</summary>
    Shutdown = 3,

    /// <summary>Worker to client: started and ready (UTF-8 text: the process id).</summary>
    Ready = 10,

    /// <summary>Worker to client: a call finished (see <see cref="LocalDone"/>). A hint only: the status object decides.</summary>
    Done = 11,

    /// <summary>Worker to client: an attempt could not finish and wrote no status (see <see cref="LocalLost"/>); the worker serves on.</summary>
    Lost = 12,
}

/// <summary>
/// The local transport: length-prefixed frames over a worker process's standard input and output
/// (<c>[type: 1 byte][length: int32 LE][payload]</c>).
/// </summary>
internal static class LocalFrames
{
    /// <summary>The largest frame accepted (envelopes are small; inputs over 8 KiB travel through storage).</summary>
    public const int MaxPayload = 1 << 20;

    /// <summary>
    /// Writes one frame and flushes, synchronously: a small write to a pipe does not block for long, and avoids the
    /// thread-pool hop that an asynchronous pipe write takes on Unix.
    /// </summary>
    /// <exception cref="ArgumentException">The payload is over <see cref="MaxPayload"/> bytes (nothing is written: the reader would refuse it).</exception>
    public static void Write(Stream stream, LocalFrameType type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (payload.Length > MaxPayload)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A local worker {type} frame of {payload.Length:N0} bytes is over the limit of {MaxPayload:N0} bytes, which the reader would refuse; nothing was sent. Large data travels through storage."),
                nameof(payload));
        }

        byte[] frame = ArrayPool<byte>.Shared.Rent(5 + payload.Length);
        try
        {
            frame[0] = (byte)type;
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(1), payload.Length);
            payload.CopyTo(frame.AsSpan(5));
            stream.Write(frame, 0, 5 + payload.Length);
            stream.Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Reads one frame synchronously (for a dedicated reader thread), or returns <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a valid frame.</exception>
    public static (LocalFrameType Type, byte[] Payload)? Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[5];
        int read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }

        if (read < header.Length)
        {
            throw new InvalidDataException("A local worker frame ended early.");
        }

        int length = PayloadLength(header);
        byte[] payload = new byte[length];
        if (stream.ReadAtLeast(payload, length, throwOnEndOfStream: false) < length)
        {
            throw new InvalidDataException("A local worker frame ended early.");
        }

        return ((LocalFrameType)header[0], payload);
    }

    /// <summary>Reads one frame, or returns <see langword="null"/> at the end of the stream (used where a timeout applies: the start handshake).</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a valid frame.</exception>
    public static async ValueTask<(LocalFrameType Type, byte[] Payload)?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = new byte[5];
        if (!await FillAsync(stream, header, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        int length = PayloadLength(header);

        byte[] payload = new byte[length];
        if (!await FillAsync(stream, payload, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException("A local worker frame ended early.");
        }

        return ((LocalFrameType)header[0], payload);
    }

    private static int PayloadLength(ReadOnlySpan<byte> header)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(header[1..]);
        if (length < 0 || length > MaxPayload)
        {
            throw new InvalidDataException($"A local worker frame declared {length} bytes (at most {MaxPayload} are allowed).");
        }

        return length;
    }

    private static async ValueTask<bool> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return read == 0 && buffer.Length > 0 ? false : throw new InvalidDataException("A local worker frame ended early.");
            }

            read += n;
        }

        return true;
    }
}
