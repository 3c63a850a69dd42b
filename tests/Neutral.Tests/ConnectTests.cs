using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Tests;

/// <summary><c>Connect</c> does no blocking network I/O: a store's preparation runs in the background and its first use waits for it.</summary>
public sealed class ConnectTests
{
    private static Cloud ConnectWith(Func<CancellationToken, Task> prepare, out InMemoryObjectStore memory)
    {
        var store = new InMemoryObjectStore();
        memory = store;
        var location = new StoreLocation("memory", "prepared", Cloud.InternalPrefix);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(store, location, Prepare: prepare))
            .AddCompute("simulated", _ => new SimulatedCloud(store, location, TimeProvider.System));
        return Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "simulated";
            o.Storage = "memory";
            o.Job.SweepAfterHours = 0;
        });
    }

    [Fact]
    public async Task Connect_returns_while_the_store_is_being_prepared_and_jobs_wait_for_it()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int prepared = 0;
        await using Cloud cloud = ConnectWith(async ct =>
        {
            await ready.Task.WaitAsync(ct);
            Interlocked.Increment(ref prepared);
        }, out InMemoryObjectStore memory);

        // Connect came back with the preparation still pending: nothing has touched the store.
        Task<int[]> results = cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.TestFunctions.Square(i));
        await Task.Delay(50);
        Assert.False(results.IsCompleted);
        Assert.Empty(memory.Keys);

        ready.SetResult();
        Assert.Equal(new[] { 0, 1, 4, 9, 16 }, await results.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(1, Volatile.Read(ref prepared));
    }

    [Fact]
    public async Task A_failed_preparation_fails_ConnectAsync_naming_the_key_and_every_job_with_its_message()
    {
        static Task Refuse(CancellationToken _) => Task.FromException(new NeutralConfigurationException("Neutral:Memory:Bucket", "b", "the bucket could not be used: no such server."));

        await using (Cloud cloud = ConnectWith(Refuse, out _))
        {
            var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.TestFunctions.Square(i)));
            Assert.Equal(3, error.Failures.Count);
            Assert.All(error.Failures, f => Assert.Contains("the bucket could not be used: no such server.", f.Message, StringComparison.Ordinal));
        }

        var store = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "prepared", Cloud.InternalPrefix);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(store, location, Prepare: Refuse))
            .AddCompute("simulated", _ => new SimulatedCloud(store, location, TimeProvider.System));
        var refused = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(o =>
        {
            o.Providers = providers;
            o.Compute = "simulated";
            o.Storage = "memory";
            o.Job.SweepAfterHours = 0;
        }));
        Assert.Equal("Neutral:Memory:Bucket", refused.Key);
    }
}
