using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Storage;

/// <summary>A view of a store under a key prefix: keys are relative to the prefix, listings strip it.</summary>
public sealed class PrefixedObjectStore : IObjectStore, IBulkDeletingObjectStore, IObjectStoreWrapper
{
    private readonly IObjectStore _inner;

    /// <summary>Creates the view.</summary>
    /// <param name="inner">The whole store.</param>
    /// <param name="prefix">The prefix, ending with '/' (or empty for the whole store).</param>
    public PrefixedObjectStore(IObjectStore inner, string prefix)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0)
        {
            ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
            if (!prefix.EndsWith('/'))
            {
                throw new ArgumentException($"The prefix '{prefix}' must end with '/'.", nameof(prefix));
            }
        }

        _inner = inner;
        Prefix = prefix;
    }

    /// <summary>The prefix.</summary>
    public string Prefix { get; }

    /// <summary>The whole store.</summary>
    public IObjectStore Inner => _inner;

    private string Full(string key)
    {
        ObjectKeys.Validate(key);
        return Prefix + key;
    }

    /// <inheritdoc/>
    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _inner.PutAsync(Full(key), data, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _inner.TryCreateAsync(Full(key), data, cancellationToken);

    /// <inheritdoc/>
    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => _inner.GetAsync(Full(key), cancellationToken);

    /// <inheritdoc/>
    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        _inner.GetRangeAsync(Full(key), offset, length, cancellationToken);

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        await foreach (ObjectInfo info in _inner.ListAsync(Prefix + prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return info with { Key = info.Key[Prefix.Length..] };
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => _inner.DeleteAsync(Full(key), cancellationToken);

    /// <inheritdoc/>
    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        return _inner.DeletePrefixAsync(Prefix + prefix, cancellationToken);
    }
}
