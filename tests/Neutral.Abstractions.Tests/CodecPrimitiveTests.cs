using System;
using System.Buffers;
using System.Collections.Generic;
using Neutral.Codec;

namespace Neutral.Tests;

public sealed class CodecPrimitiveTests
{
    private delegate void Write(ref CodecWriter writer);

    private static byte[] Encode(Write write)
    {
        var buffer = new ArrayBufferWriter<byte>(1);
        var writer = new CodecWriter(buffer);
        write(ref writer);
        writer.Flush();
        Assert.Equal(buffer.WrittenCount, writer.BytesWritten);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Numbers_are_little_endian_with_fixed_widths()
    {
        Assert.Equal(new byte[] { 0x04, 0x03, 0x02, 0x01 }, Encode((ref CodecWriter w) => w.WriteInt32(0x01020304)));
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0x80 }, Encode((ref CodecWriter w) => w.WriteInt64(long.MinValue + 1)));
        Assert.Equal(BitConverter.GetBytes(1.5), Encode((ref CodecWriter w) => w.WriteDouble(1.5)));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, Encode((ref CodecWriter w) => w.WriteString(null)));
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0xC3, 0xA9 }, Encode((ref CodecWriter w) => w.WriteString("é")));
    }

    [Fact]
    public void Every_primitive_reads_back_what_was_written()
    {
        var guid = Guid.NewGuid();
        var now = DateTimeOffset.Now;
        byte[] bytes = Encode((ref CodecWriter w) =>
        {
            w.WriteBoolean(true); w.WriteByte(7); w.WriteSByte(-7); w.WriteInt16(-300); w.WriteUInt16(60000); w.WriteChar('x');
            w.WriteInt32(-5); w.WriteUInt32(5); w.WriteInt64(-9); w.WriteUInt64(9); w.WriteSingle(0.25f); w.WriteDouble(-0.5);
            w.WriteDecimal(1.0001m); w.WriteDateTime(DateTime.MaxValue); w.WriteDateTimeOffset(now); w.WriteTimeSpan(TimeSpan.MinValue);
            w.WriteGuid(guid); w.WriteDateOnly(DateOnly.MaxValue); w.WriteTimeOnly(TimeOnly.MaxValue); w.WriteString("s");
            w.WriteUnmanagedArray(new[] { 1, 2, 3 }); w.WriteUnmanagedList(new List<short> { 4, 5 }); w.WriteUnmanagedArray<int>(null);
        });
        var r = new CodecReader(bytes);
        Assert.True(r.ReadBoolean()); Assert.Equal(7, r.ReadByte()); Assert.Equal(-7, r.ReadSByte()); Assert.Equal(-300, r.ReadInt16());
        Assert.Equal(60000, r.ReadUInt16()); Assert.Equal('x', r.ReadChar()); Assert.Equal(-5, r.ReadInt32()); Assert.Equal(5u, r.ReadUInt32());
        Assert.Equal(-9, r.ReadInt64()); Assert.Equal(9ul, r.ReadUInt64()); Assert.Equal(0.25f, r.ReadSingle()); Assert.Equal(-0.5, r.ReadDouble());
        Assert.Equal(1.0001m, r.ReadDecimal()); Assert.Equal(DateTime.MaxValue, r.ReadDateTime()); Assert.Equal(now, r.ReadDateTimeOffset());
        Assert.Equal(TimeSpan.MinValue, r.ReadTimeSpan()); Assert.Equal(guid, r.ReadGuid()); Assert.Equal(DateOnly.MaxValue, r.ReadDateOnly());
        Assert.Equal(TimeOnly.MaxValue, r.ReadTimeOnly()); Assert.Equal("s", r.ReadString());
        Assert.Equal(new[] { 1, 2, 3 }, r.ReadUnmanagedArray<int>()); Assert.Equal(new List<short> { 4, 5 }, r.ReadUnmanagedList<short>());
        Assert.Null(r.ReadUnmanagedArray<int>());
        r.EnsureEnd();
    }

    [Fact]
    public void Reading_past_the_end_throws_a_codec_exception_with_the_offset()
    {
        byte[] bytes = [1, 2, 3];
        var error = Assert.Throws<CodecException>(() => new CodecReader(bytes).ReadInt32());
        Assert.Equal(0, error.Offset);
        Assert.Contains("needed 4 bytes", error.Message);
    }

    [Fact]
    public void A_length_larger_than_the_remaining_bytes_is_refused_before_allocating()
    {
        byte[] bytes = Encode((ref CodecWriter w) => w.WriteInt32(int.MaxValue));
        Assert.Throws<CodecException>(() => new CodecReader(bytes).ReadUnmanagedArray<long>());
        Assert.Throws<CodecException>(() => new CodecReader(bytes).ReadString());
        byte[] negative = Encode((ref CodecWriter w) => w.WriteInt32(-2));
        Assert.Throws<CodecException>(() => new CodecReader(negative).ReadLength(1));
    }

    [Theory]
    [InlineData(new byte[] { 2 })]
    [InlineData(new byte[] { 255 })]
    public void Booleans_and_presence_markers_other_than_0_or_1_are_refused(byte[] bytes)
    {
        Assert.Throws<CodecException>(() => new CodecReader(bytes).ReadBoolean());
        Assert.Throws<CodecException>(() => new CodecReader(bytes).ReadPresence());
    }

    [Fact]
    public void Invalid_decimal_datetime_and_offset_bits_are_codec_errors()
    {
        byte[] badDecimal = Encode((ref CodecWriter w) => { w.WriteInt32(0); w.WriteInt32(0); w.WriteInt32(0); w.WriteInt32(0x00FF0000); });
        Assert.Throws<CodecException>(() => new CodecReader(badDecimal).ReadDecimal());
        byte[] badDate = Encode((ref CodecWriter w) => { w.WriteInt64(long.MaxValue); w.WriteByte(0); });
        Assert.Throws<CodecException>(() => new CodecReader(badDate).ReadDateTime());
        byte[] badKind = Encode((ref CodecWriter w) => { w.WriteInt64(0); w.WriteByte(9); });
        Assert.Throws<CodecException>(() => new CodecReader(badKind).ReadDateTime());
        byte[] badOffset = Encode((ref CodecWriter w) => { w.WriteInt64(0); w.WriteInt16(15 * 60); });
        Assert.Throws<CodecException>(() => new CodecReader(badOffset).ReadDateTimeOffset());
        byte[] outOfRange = Encode((ref CodecWriter w) => { w.WriteInt64(0); w.WriteInt16(60); });
        Assert.Throws<CodecException>(() => new CodecReader(outOfRange).ReadDateTimeOffset());
    }

    [Fact]
    public void A_multi_segment_sequence_reads_like_one_span()
    {
        byte[] bytes = Encode((ref CodecWriter w) => { w.WriteInt64(42); w.WriteString("tail"); });
        var first = new Segment(bytes.AsMemory(0, 3));
        Segment last = first.Append(bytes.AsMemory(3));
        var reader = new CodecReader(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));
        Assert.Equal(42, reader.ReadInt64());
        Assert.Equal("tail", reader.ReadString());
    }

    [Fact]
    public void Blocks_larger_than_the_writer_slice_are_copied_whole()
    {
        var data = new byte[3 << 20];
        new Random(1).NextBytes(data);
        byte[] bytes = Encode((ref CodecWriter w) => w.WriteUnmanagedArray(data));
        Assert.Equal(data, new CodecReader(bytes).ReadUnmanagedArray<byte>());
    }

    [Fact]
    public void The_generator_and_the_runtime_agree_on_the_codec_version() =>
        Assert.Equal(1, CodecInfo.Version);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
