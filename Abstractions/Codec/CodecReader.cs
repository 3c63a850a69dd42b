using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Neutral.Codec;

/// <summary>
/// Reads Neutral's binary encoding from a span. Every read is bounds-checked: truncated or corrupted input raises
/// <see cref="CodecException"/> with the byte offset, never an index or memory error, and a length prefix is never
/// trusted beyond the bytes that remain.
/// </summary>
public ref struct CodecReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>Creates a reader over <paramref name="data"/>.</summary>
    public CodecReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>
    /// Creates a reader over a sequence. A multi-segment sequence is copied once into a contiguous buffer.
    /// </summary>
    public CodecReader(in ReadOnlySequence<byte> data)
        : this(data.IsSingleSegment ? data.FirstSpan : data.ToArray())
    {
    }

    /// <summary>The offset of the next byte to read.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes not yet read.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>Throws unless every byte was read: trailing bytes mean the payload does not match the signature.</summary>
    public readonly void EnsureEnd()
    {
        if (_position != _data.Length)
        {
            Throw($"{_data.Length - _position} unexpected trailing bytes", _position);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int size)
    {
        if ((uint)size > (uint)(_data.Length - _position))
        {
            ThrowTruncated(size);
        }

        ReadOnlySpan<byte> slice = _data.Slice(_position, size);
        _position += size;
        return slice;
    }

    [DoesNotReturn]
    private readonly void ThrowTruncated(int size) =>
        Throw($"needed {size} bytes but only {_data.Length - _position} remain", _position);

    /// <summary>Throws a <see cref="CodecException"/> at <paramref name="offset"/>.</summary>
    [DoesNotReturn]
    public static void Throw(string message, long offset) => throw new CodecException(message, offset);

    /// <summary>Reads raw bytes.</summary>
    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    /// <summary>Reads a byte that must be 0 or 1.</summary>
    public bool ReadBoolean()
    {
        byte b = ReadByte();
        if (b > 1)
        {
            Throw($"a boolean must be 0 or 1, found {b}", _position - 1);
        }

        return b == 1;
    }

    /// <summary>Reads a byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte()
    {
        if (_position >= _data.Length)
        {
            ThrowTruncated(1);
        }

        return _data[_position++];
    }

    /// <summary>Reads a signed byte.</summary>
    public sbyte ReadSByte() => unchecked((sbyte)ReadByte());

    /// <summary>Reads a 16-bit integer.</summary>
    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    /// <summary>Reads an unsigned 16-bit integer.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    /// <summary>Reads a UTF-16 code unit.</summary>
    public char ReadChar() => (char)ReadUInt16();

    /// <summary>Reads a 32-bit integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    /// <summary>Reads an unsigned 32-bit integer.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>Reads a 64-bit integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Reads an unsigned 64-bit integer.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>Reads a single-precision float.</summary>
    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    /// <summary>Reads a double-precision float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>Reads a <see cref="decimal"/>.</summary>
    public decimal ReadDecimal()
    {
        int start = _position;
        ReadOnlySpan<byte> raw = Take(16);
        Span<int> bits = stackalloc int[4];
        for (int i = 0; i < 4; i++)
        {
            bits[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4, 4));
        }

        // decimal's own validation: scale 0..28 and reserved bits clear.
        int flags = bits[3];
        if ((flags & 0x7F00FFFF) != 0 || ((flags >> 16) & 0xFF) > 28)
        {
            Throw("invalid decimal bits", start);
        }

        return new decimal(bits);
    }

    /// <summary>Reads a <see cref="DateTime"/>.</summary>
    public DateTime ReadDateTime()
    {
        int start = _position;
        long ticks = ReadInt64();
        byte kind = ReadByte();
        if ((ulong)ticks > (ulong)DateTime.MaxValue.Ticks || kind > (byte)DateTimeKind.Local)
        {
            Throw("invalid DateTime", start);
        }

        return new DateTime(ticks, (DateTimeKind)kind);
    }

    /// <summary>Reads a <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset ReadDateTimeOffset()
    {
        int start = _position;
        long ticks = ReadInt64();
        short minutes = ReadInt16();
        if ((ulong)ticks > (ulong)DateTime.MaxValue.Ticks || minutes < -14 * 60 || minutes > 14 * 60)
        {
            Throw("invalid DateTimeOffset", start);
        }

        TimeSpan offset = TimeSpan.FromMinutes(minutes);
        long utc = ticks - offset.Ticks;
        if (utc < 0 || utc > DateTime.MaxValue.Ticks)
        {
            Throw("DateTimeOffset out of range", start);
        }

        return new DateTimeOffset(ticks, offset);
    }

    /// <summary>Reads a <see cref="TimeSpan"/>.</summary>
    public TimeSpan ReadTimeSpan() => new(ReadInt64());

    /// <summary>Reads a <see cref="DateOnly"/>.</summary>
    public DateOnly ReadDateOnly()
    {
        int start = _position;
        int day = ReadInt32();
        if ((uint)day > (uint)DateOnly.MaxValue.DayNumber)
        {
            Throw("invalid DateOnly", start);
        }

        return DateOnly.FromDayNumber(day);
    }

    /// <summary>Reads a <see cref="TimeOnly"/>.</summary>
    public TimeOnly ReadTimeOnly()
    {
        int start = _position;
        long ticks = ReadInt64();
        if ((ulong)ticks > (ulong)TimeOnly.MaxValue.Ticks)
        {
            Throw("invalid TimeOnly", start);
        }

        return new TimeOnly(ticks);
    }

    /// <summary>Reads a <see cref="Guid"/>.</summary>
    public Guid ReadGuid() => new(Take(16));

    /// <summary>Reads a string (null for length -1).</summary>
    public string? ReadString()
    {
        int length = ReadLength(1);
        if (length < 0)
        {
            return null;
        }

        return length == 0 ? string.Empty : Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>Reads a string that must not be null.</summary>
    public string ReadNonNullString()
    {
        int start = _position;
        string? value = ReadString();
        if (value is null)
        {
            Throw("a null string where a value is required", start);
        }

        return value;
    }

    /// <summary>
    /// Reads a collection length (-1 for null) and checks it against the bytes that remain, given that each element
    /// takes at least <paramref name="minimumElementSize"/> bytes (zero-size elements are capped at 2^24).
    /// </summary>
    public int ReadLength(int minimumElementSize)
    {
        int start = _position;
        int length = ReadInt32();
        if (length < -1)
        {
            Throw($"invalid length {length}", start);
        }

        if (length > 0)
        {
            long needed = (long)length * minimumElementSize;
            if (minimumElementSize == 0 ? length > 1 << 24 : needed > Remaining)
            {
                Throw($"length {length} exceeds the {Remaining} bytes that remain", start);
            }
        }

        return length;
    }

    /// <summary>Reads the one-byte presence marker before a reference type.</summary>
    public bool ReadPresence()
    {
        byte b = ReadByte();
        if (b > 1)
        {
            Throw($"a presence marker must be 0 or 1, found {b}", _position - 1);
        }

        return b == 1;
    }

    /// <summary>Reads a block of unmanaged primitives written by <see cref="CodecWriter.WriteUnmanagedArray{T}"/>.</summary>
    public T[]? ReadUnmanagedArray<T>()
        where T : unmanaged
    {
        int length = ReadLength(Unsafe.SizeOf<T>());
        if (length < 0)
        {
            return null;
        }

        if (length == 0)
        {
            return [];
        }

        T[] result = GC.AllocateUninitializedArray<T>(length);
        CopyBlock(Take(length * Unsafe.SizeOf<T>()), result);
        return result;
    }

    /// <summary>Reads a block of unmanaged primitives into a new list.</summary>
    public List<T>? ReadUnmanagedList<T>()
        where T : unmanaged
    {
        int length = ReadLength(Unsafe.SizeOf<T>());
        if (length < 0)
        {
            return null;
        }

        var list = new List<T>(length);
        CollectionsMarshal.SetCount(list, length);
        CopyBlock(Take(length * Unsafe.SizeOf<T>()), CollectionsMarshal.AsSpan(list));
        return list;
    }

    private static void CopyBlock<T>(ReadOnlySpan<byte> source, Span<T> target)
        where T : unmanaged
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(target);
        source.CopyTo(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            int size = Unsafe.SizeOf<T>();
            for (int i = 0; i < bytes.Length; i += size)
            {
                bytes.Slice(i, size).Reverse();
            }
        }
    }
}
