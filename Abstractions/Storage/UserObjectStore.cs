using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Storage;

/// <summary>
/// The user key space of a store: every key but those under Neutral's internal prefix, which it refuses and hides, so
/// that user objects and job objects never collide.
/// </summary>
public sealed class UserObjectStore : IObjectStore, IBulkDeletingObjectStore, IObjectStoreWrapper
{
    private readonly IObjectStore _inner;
    private readonly string _internalPrefix;

    /// <summary>Creates the view.</summary>
    /// <param name="inner">The whole store.</param>
    /// <param name="internalPrefix">Neutral's internal prefix, ending with '/'.</param>
    public UserObjectStore(IObjectStore inner, string internalPrefix)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentException.ThrowIfNullOrEmpty(internalPrefix);
        _inner = inner;
        _internalPrefix = internalPrefix;
    }

    private string Check(string key)
    {
        ObjectKeys.Validate(key);
        if (key.StartsWith(_internalPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object key '{key}' is under '{_internalPrefix}', which Neutral keeps for its job data. Use another key.", nameof(key));
        }

        // The internal prefix's own name: on a file-system store it is the folder holding every job, and on any store
        // it would read as Neutral's data.
        if (key.Length == _internalPrefix.Length - 1 && _internalPrefix.StartsWith(key, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object key '{key}' is the name of '{_internalPrefix}', which Neutral keeps for its job data. Use another key.", nameof(key));
        }

        return key;
    }

    /// <inheritdoc/>
    public IObjectStore Inner => _inner;

    /// <inheritdoc/>
    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _inner.PutAsync(Check(key), data, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _inner.TryCreateAsync(Check(key), data, cancellationToken);

    /// <inheritdoc/>
    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => _inner.GetAsync(Check(key), cancellationToken);

    /// <inheritdoc/>
    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        _inner.GetRangeAsync(Check(key), offset, length, cancellationToken);

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        await foreach (ObjectInfo info in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (!info.Key.StartsWith(_internalPrefix, StringComparison.Ordinal))
            {
                yield return info;
            }
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => _inner.DeleteAsync(Check(key), cancellationToken);

    /// <inheritdoc/>
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        if (_internalPrefix.StartsWith(prefix, StringComparison.Ordinal))
        {
            // The prefix covers Neutral's own data too: delete object by object, skipping it.
            int deleted = 0;
            var keys = new List<string>();
            await foreach (ObjectInfo info in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                keys.Add(info.Key);
            }

            foreach (string key in keys)
            {
                deleted += await _inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false) ? 1 : 0;
            }

            return deleted;
        }

        return await _inner.DeletePrefixAsync(Check(prefix.TrimEnd('/')) + (prefix.EndsWith('/') ? "/" : string.Empty), cancellationToken).ConfigureAwait(false);
    }
}
