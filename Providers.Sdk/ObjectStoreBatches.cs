using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers;

/// <summary>Batched storage operations for store implementations (not for applications: <c>using Neutral.Providers;</c> to see them).</summary>
public static class ObjectStoreBatches
{
    /// <summary>
    /// Lists <paramref name="prefix"/> in <paramref name="store"/> and hands the keys to <paramref name="deleteBatch"/>
    /// <paramref name="batchSize"/> at a time (a store's batch-delete API: S3's <c>DeleteObjects</c> takes 1,000);
    /// returns the sum of what the batches report. For implementations of <see cref="Storage.IBulkDeletingObjectStore"/>.
    /// </summary>
    public static async Task<int> DeleteInBatchesAsync(this IObjectStore store, string prefix, int batchSize,
        System.Func<IReadOnlyList<string>, CancellationToken, Task<int>> deleteBatch, CancellationToken cancellationToken = default)
    {
        System.ArgumentNullException.ThrowIfNull(store);
        System.ArgumentNullException.ThrowIfNull(deleteBatch);
        System.ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int deleted = 0;
        var batch = new List<string>(batchSize);
        await foreach (ObjectInfo info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            batch.Add(info.Key);
            if (batch.Count == batchSize)
            {
                deleted += await deleteBatch(batch, cancellationToken).ConfigureAwait(false);
                batch = new List<string>(batchSize);
            }
        }

        if (batch.Count > 0)
        {
            deleted += await deleteBatch(batch, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }
}
