using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral;

/// <summary>
/// An object store: the only state Neutral's client and workers share. Keys are <c>/</c>-separated paths.
/// </summary>
public interface IObjectStore
{
    /// <summary>Writes <paramref name="data"/> at <paramref name="key"/>, replacing any object there.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="key"/> only if no object is there, atomically.
    /// Returns <see langword="false"/> when the object already existed (and leaves it unchanged).
    /// </summary>
    Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Reads the whole object, or <see langword="null"/> when it does not exist.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads up to <paramref name="length"/> bytes from <paramref name="offset"/>, fewer at the end of the object,
    /// or <see langword="null"/> when the object does not exist.
    /// </summary>
    Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>Lists the objects whose keys start with <paramref name="prefix"/>, in ordinal key order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; returns <see langword="false"/> when it did not exist.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
}
