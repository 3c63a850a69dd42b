using System;
using System.Buffers;

namespace Neutral.Codec;

/// <summary>
/// Encodes into a per-thread reusable buffer and returns an exactly sized array, so that building a call allocates
/// only its payload. Used by generated client stubs.
/// </summary>
public static class PooledBuffer
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>Takes this thread's buffer, emptied. Give it back with <see cref="ToArrayAndReturn"/>.</summary>
    public static ArrayBufferWriter<byte> Rent()
    {
        ArrayBufferWriter<byte>? buffer = t_buffer;
        t_buffer = null;
        if (buffer is null)
        {
            return new ArrayBufferWriter<byte>(1024);
        }

        buffer.ResetWrittenCount();
        return buffer;
    }

    /// <summary>Copies what was written into a new array and keeps the buffer for the next call on this thread.</summary>
    public static byte[] ToArrayAndReturn(ArrayBufferWriter<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        byte[] result = buffer.WrittenSpan.ToArray();
        // Very large buffers are dropped rather than pinned to the thread for good.
        if (buffer.Capacity <= 1 << 20)
        {
            t_buffer = buffer;
        }

        return result;
    }
}
