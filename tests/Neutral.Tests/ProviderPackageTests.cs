using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Providers;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Tests;

/// <summary>
/// A provider written against the documented boundary alone (the plug-in contract in Neutral, the helpers in
/// Neutral.Providers.Sdk), outside the repository's provider folders: declared once, registered, selected by name.
/// </summary>
public sealed class ProviderPackageTests
{
    private static ProviderPackage Acme(InMemoryObjectStore store, Action? opened = null)
    {
        var location = new StoreLocation("acmestore", "acme-bucket", Cloud.InternalPrefix);
        return new ProviderPackage("Acme.Providers")
            .Section("Acme", "Endpoint")
            .Storage("acmestore", _ =>
            {
                opened?.Invoke();
                return new StoreConnection(store, location);
            }, workerOpen: _ => store)
            .Compute("acme", _ => new SimulatedCloud(store, location, TimeProvider.System), defaultStorage: "acmestore")
            .WorkerRuntime("acme-test-runtime", _ => Task.CompletedTask);
    }

    [Fact]
    public async Task A_compute_declared_with_its_default_store_runs_a_map_without_Storage_set()
    {
        var store = new InMemoryObjectStore();
        int opened = 0;
        ProviderRegistry registry = Acme(store, () => opened++).AddTo(new ProviderRegistry());
        Assert.Contains("acme", registry.ComputeNames);
        Assert.Contains("acmestore", registry.StorageNames);

        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = registry;
            o.Compute = "acme";
            o.Job.SweepAfterHours = 0;
        });
        Assert.Equal(new[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.TestFunctions.Square(i)));
        Assert.Equal(1, opened);
    }

    [Fact]
    public void The_worker_side_registers_its_store_kinds_and_runtimes_once()
    {
        ProviderPackage package = Acme(new InMemoryObjectStore());
        package.RegisterWorkerSide();
        package.RegisterWorkerSide();
        Assert.True(ObjectStores.IsRegistered("acmestore"));
        Assert.NotNull(WorkerRuntimes.Find("acme-test-runtime"));
    }

    [Fact]
    public void A_declared_section_refuses_a_misspelt_key()
    {
        ProviderRegistry registry = Acme(new InMemoryObjectStore()).AddTo(new ProviderRegistry());
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Neutral:Compute", "acme"), new("Neutral:Acme:Endpiont", "x")]).Build();
        NeutralOptions options = NeutralConfiguration.Read(configuration);
        options.Providers = registry;
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(options));
        Assert.Equal("Neutral:Acme:Endpiont", error.Key);
        Assert.Contains("Neutral:Acme:Endpoint", error.Message, StringComparison.Ordinal);
    }
}
