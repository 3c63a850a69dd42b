using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers;

/// <summary>
/// Reading a whole object as ranges, for stores whose service serves ranged GETs: one range of the first part, which
/// holds a small object whole and tells a large one's size, then the other parts in parallel into one array.
/// </summary>
public static class ParallelRanges
{
    /// <summary>
    /// Reads the object <paramref name="readRange"/> serves (given an offset and a length, it returns the bytes, cut at
    /// the end, and the object's size; null bytes for no object) in parts of <paramref name="partSize"/>,
    /// <paramref name="parallelism"/> at a time. <paramref name="what"/> names the object in errors.
    /// </summary>
    /// <exception cref="IOException">The object is larger than an array, or changed or went away while it was read.</exception>
    public static async Task<byte[]?> GetAsync(Func<long, int, CancellationToken, Task<(byte[]? Bytes, long Total)>> readRange, int partSize, int parallelism, string what,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readRange);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parallelism);
        var (first, total) = await readRange(0, partSize, cancellationToken).ConfigureAwait(false);
        if (first is null || total <= first.Length)
        {
            return first;
        }

        if (total > Array.MaxLength)
        {
            throw new IOException($"{what} holds {total} bytes, more than one array can hold; read it in ranges.");
        }

        byte[] all = GC.AllocateUninitializedArray<byte>((int)total);
        first.CopyTo(all, 0);
        int parts = (int)((total + partSize - 1) / partSize);
        await Parallel.ForAsync(1, parts, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, token) =>
        {
            long offset = (long)i * partSize;
            int length = (int)Math.Min(partSize, total - offset);
            var (bytes, _) = await readRange(offset, length, token).ConfigureAwait(false);
            if (bytes is null || bytes.Length != length)
            {
                throw new IOException($"{what} changed or went away while it was read in parts.");
            }

            bytes.CopyTo(all, offset);
        }).ConfigureAwait(false);
        return all;
    }
}
