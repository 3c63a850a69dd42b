using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Neutral.Codec;

/// <summary>
/// Writes Neutral's binary encoding (little-endian, deterministic) into an <see cref="IBufferWriter{T}"/>.
/// Generated codecs call it; call <see cref="Flush"/> when done.
/// </summary>
/// <remarks>
/// Lengths of strings and collections are 32-bit signed integers, <c>-1</c> meaning <see langword="null"/>.
/// A reference type is preceded by one byte: 0 for <see langword="null"/>, 1 for a value.
/// </remarks>
public ref struct CodecWriter
{
    private const int MinimumBufferSize = 256;

    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _buffered;
    private long _committed;

    /// <summary>Creates a writer appending to <paramref name="output"/>.</summary>
    public CodecWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _span = default;
        _buffered = 0;
        _committed = 0;
    }

    /// <summary>Bytes written so far, flushed or not.</summary>
    public readonly long BytesWritten => _committed + _buffered;

    /// <summary>Commits buffered bytes to the underlying <see cref="IBufferWriter{T}"/>.</summary>
    public void Flush()
    {
        if (_buffered > 0)
        {
            _output.Advance(_buffered);
            _committed += _buffered;
            _buffered = 0;
            _span = default;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int size)
    {
        if (_span.Length - _buffered < size)
        {
            Grow(size);
        }

        return _span.Slice(_buffered, size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int size)
    {
        Flush();
        _span = _output.GetSpan(Math.Max(size, MinimumBufferSize));
        if (_span.Length < size)
        {
            throw new InvalidOperationException($"The buffer writer returned {_span.Length} bytes where {size} were requested.");
        }
    }

    /// <summary>Writes raw bytes.</summary>
    public void WriteRaw(scoped ReadOnlySpan<byte> bytes)
    {
        // Large blocks go through in slices so that the buffer writer need not hold them at once.
        while (bytes.Length > 0)
        {
            int chunk = Math.Min(bytes.Length, 1 << 20);
            bytes[..chunk].CopyTo(Reserve(chunk));
            _buffered += chunk;
            bytes = bytes[chunk..];
        }
    }

    /// <summary>Writes a <see cref="bool"/> as one byte, 0 or 1.</summary>
    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    /// <summary>Writes a byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte value)
    {
        Reserve(1)[0] = value;
        _buffered++;
    }

    /// <summary>Writes a signed byte.</summary>
    public void WriteSByte(sbyte value) => WriteByte(unchecked((byte)value));

    /// <summary>Writes a 16-bit integer.</summary>
    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16LittleEndian(Reserve(2), value);
        _buffered += 2;
    }

    /// <summary>Writes an unsigned 16-bit integer.</summary>
    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);
        _buffered += 2;
    }

    /// <summary>Writes a UTF-16 code unit.</summary>
    public void WriteChar(char value) => WriteUInt16(value);

    /// <summary>Writes a 32-bit integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);
        _buffered += 4;
    }

    /// <summary>Writes an unsigned 32-bit integer.</summary>
    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
        _buffered += 4;
    }

    /// <summary>Writes a 64-bit integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);
        _buffered += 8;
    }

    /// <summary>Writes an unsigned 64-bit integer.</summary>
    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);
        _buffered += 8;
    }

    /// <summary>Writes a single-precision float (IEEE 754 bits).</summary>
    public void WriteSingle(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);
        _buffered += 4;
    }

    /// <summary>Writes a double-precision float (IEEE 754 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);
        _buffered += 8;
    }

    /// <summary>Writes a <see cref="decimal"/> as its four 32-bit parts.</summary>
    public void WriteDecimal(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        for (int i = 0; i < 4; i++)
        {
            WriteInt32(bits[i]);
        }
    }

    /// <summary>Writes a <see cref="DateTime"/> (ticks and kind, as <see cref="DateTime.ToBinary"/> for UTC and unspecified).</summary>
    public void WriteDateTime(DateTime value)
    {
        // ToBinary converts local times to UTC ticks with the machine's zone: deterministic only with an explicit encoding.
        WriteInt64(value.Ticks);
        WriteByte((byte)value.Kind);
    }

    /// <summary>Writes a <see cref="DateTimeOffset"/> (local ticks and offset in minutes).</summary>
    public void WriteDateTimeOffset(DateTimeOffset value)
    {
        WriteInt64(value.Ticks);
        WriteInt16((short)(value.Offset.Ticks / TimeSpan.TicksPerMinute));
    }

    /// <summary>Writes a <see cref="TimeSpan"/> as ticks.</summary>
    public void WriteTimeSpan(TimeSpan value) => WriteInt64(value.Ticks);

    /// <summary>Writes a <see cref="DateOnly"/> as its day number.</summary>
    public void WriteDateOnly(DateOnly value) => WriteInt32(value.DayNumber);

    /// <summary>Writes a <see cref="TimeOnly"/> as ticks.</summary>
    public void WriteTimeOnly(TimeOnly value) => WriteInt64(value.Ticks);

    /// <summary>Writes a <see cref="Guid"/> in its 16-byte little-endian layout.</summary>
    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(Reserve(16));
        _buffered += 16;
    }

    /// <summary>Writes a string: its UTF-8 byte length (-1 for null), then the bytes.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 1 << 16)
        {
            Span<byte> target = Reserve(4 + max);
            int written = Encoding.UTF8.GetBytes(value, target[4..]);
            BinaryPrimitives.WriteInt32LittleEndian(target, written);
            _buffered += 4 + written;
        }
        else
        {
            int count = Encoding.UTF8.GetByteCount(value);
            WriteInt32(count);
            int written = Encoding.UTF8.GetBytes(value, Reserve(count));
            _buffered += written;
        }
    }

    /// <summary>Writes a collection length, -1 for null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteLength(int length) => WriteInt32(length);

    /// <summary>Writes the one-byte presence marker that precedes reference types.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WritePresence(bool present) => WriteByte(present ? (byte)1 : (byte)0);

    /// <summary>
    /// Writes a block of unmanaged little-endian primitives (numbers, enums): its length, then the raw bytes in one copy.
    /// </summary>
    public void WriteUnmanagedSpan<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        WriteInt32(values.Length);
        WriteUnmanagedBlock(values);
    }

    /// <summary>Writes an array of unmanaged primitives in one block copy; null as length -1.</summary>
    public void WriteUnmanagedArray<T>(T[]? values)
        where T : unmanaged
    {
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteUnmanagedSpan<T>(values);
    }

    /// <summary>Writes a list of unmanaged primitives in one block copy; null as length -1.</summary>
    public void WriteUnmanagedList<T>(List<T>? values)
        where T : unmanaged
    {
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteUnmanagedSpan<T>(CollectionsMarshal.AsSpan(values));
    }

    private void WriteUnmanagedBlock<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            WriteRaw(MemoryMarshal.AsBytes(values));
            return;
        }

        // Big-endian hosts reverse each element so that the wire stays little-endian.
        int size = Unsafe.SizeOf<T>();
        Span<byte> element = stackalloc byte[size];
        foreach (T value in values)
        {
            T copy = value;
            MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in copy)).CopyTo(element);
            element.Reverse();
            WriteRaw(element);
        }
    }
}
