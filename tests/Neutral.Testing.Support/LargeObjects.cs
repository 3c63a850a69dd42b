using System;
using System.Threading.Tasks;
using Xunit;

namespace Neutral.Testing;

/// <summary>A store's large-object path (a write in parts, reads in parallel ranges) put to the test on its server.</summary>
public static class LargeObjects
{
    /// <summary>
    /// Writes 12,345 random bytes more than <paramref name="threshold"/> (the size from which the store writes in parts)
    /// under a new key, lets <paramref name="checkWritten"/> see on the server how it was written, then reads it back
    /// whole, in a range across the first part boundary (<paramref name="partSize"/>) and in one cut at the end.
    /// </summary>
    /// <returns>The key.</returns>
    public static async Task<string> RoundTripAsync(IObjectStore store, int threshold, int partSize, Func<string, Task> checkWritten)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(checkWritten);
        byte[] data = new byte[threshold + 12_345];
        new Random(7).NextBytes(data);
        string key = "large/" + Guid.NewGuid().ToString("N");
        await store.PutAsync(key, data);
        await checkWritten(key);

        Assert.Equal(data, await store.GetAsync(key));
        long offset = partSize - 10;
        Assert.Equal(data.AsSpan((int)offset, 20).ToArray(), await store.GetRangeAsync(key, offset, 20));
        Assert.Equal(data.AsSpan(data.Length - 5).ToArray(), await store.GetRangeAsync(key, data.Length - 5, 100));
        return key;
    }
}
