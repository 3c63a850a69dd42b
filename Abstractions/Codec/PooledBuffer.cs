using System;
using System.Buffers;

namespace Neutral.Codec;

/// <summary>
/// Encodes into a per-thread buffer grown from <see cref="ArrayPool{T}.Shared"/> and returns an exactly sized array,
/// so that building a call allocates only its payload, however large. Used by generated client stubs.
/// </summary>
public static class PooledBuffer
{
    [ThreadStatic]
    private static PooledBufferWriter? t_writer;

    /// <summary>Takes this thread's buffer, emptied. Give it back with <see cref="ToArrayAndReturn"/>.</summary>
    public static PooledBufferWriter Rent()
    {
        PooledBufferWriter? writer = t_writer;
        t_writer = null;
        return writer ?? new PooledBufferWriter();
    }

    /// <summary>Copies what was written into a new array and keeps the buffer for the next call on this thread.</summary>
    public static byte[] ToArrayAndReturn(PooledBufferWriter buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        byte[] result = buffer.WrittenSpan.ToArray();
        buffer.Reset();
        t_writer = buffer;
        return result;
    }
}

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/>. Growing returns the
/// smaller array to the pool; <see cref="Reset"/> keeps a small array and returns a large one.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int InitialSize = 4096;
    private const int RetainedSize = 64 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>The number of bytes written.</summary>
    public int WrittenCount => _written;

    /// <inheritdoc/>
    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Cannot advance {count} bytes: {_buffer.Length - _written} bytes are free.");
        }

        _written += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Forgets what was written; returns a large buffer to the pool.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > RetainedSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        long target = Math.Max((long)_written + needed, (long)_buffer.Length * 2);
        if (target > Array.MaxLength)
        {
            target = (long)_written + needed;
            if (target > Array.MaxLength)
            {
                throw new InvalidOperationException($"An encoded payload cannot exceed {Array.MaxLength} bytes.");
            }
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent((int)target);
        _buffer.AsSpan(0, _written).CopyTo(larger);
        byte[] old = _buffer;
        _buffer = larger;
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
    }
}
