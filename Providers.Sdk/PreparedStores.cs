using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Providers;

/// <summary>
/// The <see cref="StoreConnection"/> of a store that must create its bucket or container before first use: the
/// preparation runs when <c>Cloud.Connect</c> starts it, and a failure of it becomes a
/// <see cref="NeutralConfigurationException"/> naming the key to fix; the store is disposed with the cloud.
/// </summary>
public static class PreparedStores
{
    /// <summary>Connects <paramref name="store"/>, found by workers at <paramref name="location"/>.</summary>
    /// <param name="store">The client's store.</param>
    /// <param name="location">Where workers find the same store.</param>
    /// <param name="workerEnvironment">What a worker process needs to open it (its credentials), or null.</param>
    /// <param name="prepare">Creates the bucket or container when missing.</param>
    /// <param name="key">The key a failed preparation names (<c>Neutral:Aws:Bucket</c>).</param>
    /// <param name="value">That key's value, or null when it holds a secret.</param>
    /// <param name="failure">What failed, without the cause ("the bucket could not be used at ..."); the cause follows.</param>
    /// <param name="describe">How a cause reads in the message (for example without a secret it may quote); by default its type and message.</param>
    public static StoreConnection Connect<TStore>(TStore store, StoreLocation location, IReadOnlyDictionary<string, string>? workerEnvironment,
        Func<TStore, CancellationToken, Task> prepare, string key, string? value, string failure, Func<Exception, string>? describe = null)
        where TStore : class, IObjectStore, IDisposable
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prepare);
        async Task PrepareAsync(CancellationToken cancellationToken)
        {
            try
            {
                await prepare(store, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not NeutralConfigurationException and not OperationCanceledException)
            {
                throw new NeutralConfigurationException(key, value, $"{failure}: {(describe is null ? $"{e.GetType().Name}: {e.Message}" : describe(e))}", e);
            }
        }

        return new StoreConnection(store, location, () =>
        {
            store.Dispose();
            return default;
        }, workerEnvironment, PrepareAsync);
    }
}
