using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Generators.Tests;

/// <summary>An always-empty store: the compile-and-run test never touches storage.</summary>
internal sealed class NullStore : IObjectStore
{
    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Task.FromResult(true);

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(null);

    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(null);

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => AsyncEnumerable.Empty<ObjectInfo>();

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult(false);
}
