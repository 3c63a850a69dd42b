using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Execution;

/// <summary>
/// A store whose operations wait for its <see cref="Providers.StoreConnection.Prepare"/> step (the bucket created),
/// which runs in the background from <c>Connect</c> on: <c>Connect</c> does no blocking network I/O. Once prepared, an
/// operation costs one completed-task check. A failed preparation fails every operation with its error (a
/// <see cref="NeutralConfigurationException"/> naming the key), which is not retried.
/// </summary>
internal sealed class PreparedObjectStore : IObjectStore, IBulkDeletingObjectStore, IObjectStoreWrapper
{
    private readonly IObjectStore _inner;

    /// <summary>The store this one serves.</summary>
    public IObjectStore Inner => _inner;

    public PreparedObjectStore(IObjectStore inner, Task prepared)
    {
        _inner = inner;
        Prepared = prepared;
    }

    /// <summary>Completes once the store is ready; faults with the preparation's error.</summary>
    public Task Prepared { get; }

    private ValueTask ReadyAsync(CancellationToken cancellationToken) =>
        Prepared.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(Prepared.WaitAsync(cancellationToken));

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await _inner.PutAsync(key, data, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _inner.TryCreateAsync(key, data, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _inner.GetAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _inner.GetRangeAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await foreach (ObjectInfo info in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _inner.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
    }
}
