using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Shuffles;

namespace Neutral;

/// <summary>
/// One map attempt's side of a <see cref="Shuffle{TKey, TValue}"/>: <see cref="Add"/> pairs, then
/// <see cref="CompleteAsync"/> once, and return its <see cref="ShuffleMapOutput"/> as the map call's result.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class ShuffleWriter<TKey, TValue> : IDisposable
    where TKey : notnull
{
    private readonly Shuffle<TKey, TValue> _shuffle;
    private readonly RemoteContext _context;
    private readonly Func<TValue, TValue, TValue>? _combiner;
    private readonly IComparer<TKey> _comparer;
    private readonly CodecWrite<TKey> _writeKey;
    private readonly CodecWrite<TValue> _writeValue;
    private readonly PooledBufferWriter?[] _parts;
    private readonly Dictionary<TKey, TValue>?[]? _combined;
    private readonly ArrayBufferWriter<byte> _scratch = new(64);
    private bool _completed;

    internal ShuffleWriter(Shuffle<TKey, TValue> shuffle, RemoteContext context, Func<TValue, TValue, TValue>? combiner, IComparer<TKey> comparer)
    {
        ShuffleLimits.Validate(shuffle, comparer);
        _shuffle = shuffle;
        _context = context;
        _combiner = combiner;
        _comparer = comparer;
        _writeKey = ShuffleKeys.Writer<TKey>("key");
        _writeValue = ShuffleKeys.Writer<TValue>("value");
        _parts = new PooledBufferWriter?[shuffle.Partitions];
        _combined = combiner is null ? null : new Dictionary<TKey, TValue>?[shuffle.Partitions];
    }

    /// <summary>Pairs added so far (before combining).</summary>
    public long Count { get; private set; }

    /// <summary>Adds a pair to its key's partition (combined with the key's earlier value when a combiner was given).</summary>
    /// <exception cref="InvalidOperationException">The writer was completed.</exception>
    public void Add(TKey key, TValue value)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        int partition = PartitionOf(key);
        Count++;
        if (_combined is not null)
        {
            Dictionary<TKey, TValue> map = _combined[partition] ??= new Dictionary<TKey, TValue>(ShuffleKeys.Equality<TKey>());
            map[key] = map.TryGetValue(key, out TValue? earlier) ? _combiner!(earlier, value) : value;
            return;
        }

        PooledBufferWriter part = _parts[partition] ??= new PooledBufferWriter();
        if (_shuffle.Boundaries is null)
        {
            // The key was encoded to hash it: its bytes are copied, not encoded again.
            part.Write(_scratch.WrittenSpan);
        }
        else
        {
            var keyWriter = new CodecWriter(part);
            _writeKey(ref keyWriter, key);
            keyWriter.Flush();
        }

        var writer = new CodecWriter(part);
        _writeValue(ref writer, value);
        writer.Flush();
    }

    /// <summary>
    /// Writes every partition as one object of this attempt's own, with its index, and returns what the reducers need
    /// to find their parts: return it as the map call's result.
    /// </summary>
    public async Task<ShuffleMapOutput> CompleteAsync()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        int partitions = _shuffle.Partitions;
        if (_combined is not null)
        {
            for (int p = 0; p < partitions; p++)
            {
                if (_combined[p] is not { } map)
                {
                    continue;
                }

                PooledBufferWriter part = _parts[p] = new PooledBufferWriter();
                var writer = new CodecWriter(part);
                foreach (KeyValuePair<TKey, TValue> pair in map)
                {
                    _writeKey(ref writer, pair.Key);
                    _writeValue(ref writer, pair.Value);
                }

                writer.Flush();
                _combined[p] = null;
            }
        }

        var offsets = new long[partitions + 1];
        long total = 0;
        for (int p = 0; p < partitions; p++)
        {
            offsets[p] = total;
            total += _parts[p]?.WrittenCount ?? 0;
        }

        offsets[partitions] = total;
        long size = total + (8L * (partitions + 1)) + ShuffleLimits.FooterBytes;
        if (size > int.MaxValue)
        {
            throw new InvalidOperationException(
                $"Map call {_context.CallIndex} of shuffle '{_shuffle.Id}' wrote {total:N0} bytes: one map output holds at most 2 GiB. Give the map calls smaller inputs.");
        }

        byte[] data = GC.AllocateUninitializedArray<byte>((int)size);
        for (int p = 0; p < partitions; p++)
        {
            if (_parts[p] is { } part)
            {
                part.WrittenSpan.CopyTo(data.AsSpan((int)offsets[p]));
                part.Dispose();
                _parts[p] = null;
            }
        }

        // The index after the data (so that the object alone says where each partition is), then R and a marker.
        Span<byte> tail = data.AsSpan((int)total);
        for (int p = 0; p <= partitions; p++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(tail[(8 * p)..], offsets[p]);
        }

        BinaryPrimitives.WriteInt32LittleEndian(tail[(8 * (partitions + 1))..], partitions);
        BinaryPrimitives.WriteInt32LittleEndian(tail[((8 * (partitions + 1)) + 4)..], ShuffleLimits.Marker);

        // Under this attempt's own name: an attempt delivered twice writes twice, and only the winner's name is read.
        string key = ShuffleLimits.OutputKey(_shuffle.Id, _context.CallIndex, _context.Attempt);
        IObjectStore store = ShuffleLimits.StoreOf(_context, _shuffle.Store);
        await store.PutAsync(key, data, _context.CancellationToken).ConfigureAwait(false);
        return new ShuffleMapOutput(key, offsets);
    }

    /// <summary>Returns the buffers of a writer that was not completed.</summary>
    public void Dispose()
    {
        _completed = true;
        for (int p = 0; p < _parts.Length; p++)
        {
            _parts[p]?.Dispose();
            _parts[p] = null;
        }
    }

    private int PartitionOf(TKey key)
    {
        if (_shuffle.Boundaries is { } boundaries)
        {
            // The first boundary above the key: partition p holds Boundaries[p - 1] <= k < Boundaries[p].
            int low = 0, high = boundaries.Length;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                if (_comparer.Compare(key, boundaries[mid]) < 0)
                {
                    high = mid;
                }
                else
                {
                    low = mid + 1;
                }
            }

            return low;
        }

        _scratch.ResetWrittenCount();
        var writer = new CodecWriter(_scratch);
        _writeKey(ref writer, key);
        writer.Flush();
        return (int)(ShuffleKeys.Hash(_scratch.WrittenSpan) % (ulong)_shuffle.Partitions);
    }
}
