using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Storage;

namespace Neutral.Tests;

/// <summary>Compute and storage combine: local workers run the whole protocol against a store of another kind.</summary>
public sealed class StoreCombinationTests
{
    /// <summary>The kind of the test store: a file-system store that counts the objects workers write through it.</summary>
    internal const string Kind = "countingfs";

    /// <summary>Registers the kind in every process that loads this assembly: the test host and the local worker host.</summary>
    [ModuleInitializer]
    internal static void RegisterWorkerSide() =>
        ObjectStores.Register(Kind, location => new CountingStore(new FileSystemObjectStore(location.Bucket)));

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task Local_compute_runs_the_protocol_against_another_store_kind(string isolation)
    {
        using var folder = new TempFolder("neutral-combined");
        var providers = new ProviderRegistry().AddStorage(Kind, _ =>
            new StoreConnection(new FileSystemObjectStore(folder.Path), new StoreLocation(Kind, folder.Path, Cloud.InternalPrefix)));
        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Storage = Kind;
            o.Local.Isolation = isolation;
            o.Local.Workers = 2;
            o.Job.KeepData = true;
        });
        var job = cloud.Submit(Enumerable.Range(0, 6).Select(i => Remote.ContextFunctions.WriteToStorage("combined/" + i, "v" + i)));
        string[] results = await job.GetResultsAsync();
        Assert.Equal(6, results.Length);
        for (int i = 0; i < 6; i++)
        {
            // The workers wrote through the counting store: it stamps every object it writes.
            byte[]? status = await cloud.Storage.GetAsync("combined/" + i);
            Assert.NotNull(status);
            Assert.True(File.Exists(Path.Combine(folder.Path, "combined", i + CountingStore.Stamp)), $"object {i} was not written through the '{Kind}' store");
        }
    }

    [Fact]
    public void A_store_kind_that_local_workers_cannot_open_fails_at_connect()
    {
        var providers = new ProviderRegistry().AddStorage("nowhere", _ =>
            new StoreConnection(new InMemoryObjectStore(), new StoreLocation("nowhere", "x", Cloud.InternalPrefix)));
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Storage = "nowhere";
        }));
        Assert.Equal("Neutral:Storage", error.Key);
        Assert.Contains("ObjectStores", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Writes a stamp file beside every object, so a test can tell the workers used this kind.</summary>
    private sealed class CountingStore(FileSystemObjectStore inner) : IObjectStore
    {
        public const string Stamp = ".stamp";

        public async Task PutAsync(string key, ReadOnlyMemory<byte> data, System.Threading.CancellationToken cancellationToken = default)
        {
            await inner.PutAsync(key, data, cancellationToken);
            if (!key.StartsWith(Cloud.InternalPrefix, StringComparison.Ordinal))
            {
                await inner.PutAsync(key + Stamp, Array.Empty<byte>(), cancellationToken);
            }
        }

        public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, System.Threading.CancellationToken cancellationToken = default) => inner.TryCreateAsync(key, data, cancellationToken);

        public Task<byte[]?> GetAsync(string key, System.Threading.CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task<byte[]?> GetRangeAsync(string key, long offset, int length, System.Threading.CancellationToken cancellationToken = default) => inner.GetRangeAsync(key, offset, length, cancellationToken);

        public System.Collections.Generic.IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, System.Threading.CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string key, System.Threading.CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }
}
