using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Numerics;
using Neutral.Codec;

namespace Neutral.Shuffles;

/// <summary>How a shuffle handles keys: their codecs, order, equality and a hash that is the same in every process.</summary>
internal static class ShuffleKeys
{
    public static CodecWrite<T> Writer<T>(string what) => CodecRegistry<T>.Write ?? throw NoCodec<T>(what);

    public static CodecRead<T> Reader<T>(string what) => CodecRegistry<T>.Read ?? throw NoCodec<T>(what);

    /// <summary><see cref="Comparer{T}.Default"/>, but byte arrays by their bytes (TeraSort's keys).</summary>
    public static IComparer<T> Comparer<T>() =>
        typeof(T) == typeof(byte[]) ? (IComparer<T>)(object)ByteArrays.Instance : System.Collections.Generic.Comparer<T>.Default;

    /// <summary><see cref="EqualityComparer{T}.Default"/>, but byte arrays by their bytes.</summary>
    public static IEqualityComparer<T> Equality<T>() =>
        typeof(T) == typeof(byte[]) ? (IEqualityComparer<T>)(object)ByteArrays.Instance : EqualityComparer<T>.Default;

    /// <summary>
    /// A 64-bit hash of encoded bytes: every map call, in any process or on any machine, sends a key to the same
    /// partition (string.GetHashCode is randomized per process, so it cannot serve).
    /// </summary>
    public static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Seed = 0x9E3779B97F4A7C15;
        ulong h = Seed ^ (ulong)bytes.Length;
        while (bytes.Length >= 8)
        {
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            bytes = bytes[8..];
        }

        ulong tail = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            tail |= (ulong)bytes[i] << (8 * i);
        }

        h = Mix(h, tail);
        // murmur3's finalizer: every input bit reaches every output bit.
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        h ^= h >> 33;
        return h;
    }

    private static ulong Mix(ulong h, ulong k)
    {
        k *= 0x87C37B91114253D5;
        k = BitOperations.RotateLeft(k, 31);
        k *= 0x4CF5AD432745937F;
        h ^= k;
        return (BitOperations.RotateLeft(h, 27) * 5) + 0x52DCE729;
    }

    private static InvalidOperationException NoCodec<T>(string what) => new(
        $"No generated codec for the shuffle's {what} type {typeof(T)}: the source generator registers the codecs of TKey and TValue for [Remote] methods that take a Shuffle<TKey, TValue> or a ShufflePartition<TKey, TValue>. Add such a parameter to the map or reduce method (and make sure the worker runs the generator).");

    private sealed class ByteArrays : IComparer<byte[]>, IEqualityComparer<byte[]>
    {
        public static readonly ByteArrays Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x is null || y is null ? (x is null ? (y is null ? 0 : -1) : 1) : x.AsSpan().SequenceCompareTo(y);

        public bool Equals(byte[]? x, byte[]? y) => x is null || y is null ? x is null && y is null : x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => (int)Hash(obj);
    }
}
