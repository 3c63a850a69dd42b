using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Storage;

/// <summary>A store that deletes everything under a prefix faster than object by object (a folder, a batch API).</summary>
public interface IBulkDeletingObjectStore
{
    /// <summary>Deletes every object whose key starts with <paramref name="prefix"/>; returns how many it deleted (or an estimate).</summary>
    Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default);
}

/// <summary>Helpers over any <see cref="IObjectStore"/>.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Deletes every object under <paramref name="prefix"/>, in bulk where the store can.</summary>
    public static async Task<int> DeletePrefixAsync(this IObjectStore store, string prefix, CancellationToken cancellationToken = default)
    {
        System.ArgumentNullException.ThrowIfNull(store);
        if (store is IBulkDeletingObjectStore bulk)
        {
            return await bulk.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
        }

        var keys = new List<string>();
        await foreach (ObjectInfo info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(info.Key);
        }

        int deleted = 0;
        foreach (string key in keys)
        {
            deleted += await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        return deleted;
    }
}
