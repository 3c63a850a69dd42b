using System;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Neutral.Providers;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Tests;

/// <summary>
/// A <see cref="Cloud"/> on the simulated cloud (no hints) over an in-memory store with fault injection, all on a fake
/// clock that <see cref="DriveAsync"/> advances while the work runs.
/// </summary>
internal sealed class SimulatedRig : IAsyncDisposable
{
    public SimulatedRig(Action<NeutralOptions>? configure = null, int seed = 7)
    {
        Time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Store = new FaultInjectingObjectStore(Memory, Time, seed);
        var location = new StoreLocation("memory", "simulated", Cloud.InternalPrefix);
        Platform = new SimulatedCloud(Store, location, Time, seed);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(Store, location))
            .AddCompute("simulated", _ => Platform);
        Cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "simulated";
            o.Storage = "memory";
            o.TimeProvider = Time;
            o.Job.SweepAfterHours = 0;
            configure?.Invoke(o);
        });
    }

    public FakeTimeProvider Time { get; }

    public InMemoryObjectStore Memory { get; } = new();

    public FaultInjectingObjectStore Store { get; }

    public SimulatedCloud Platform { get; }

    public Cloud Cloud { get; }

    /// <summary>
    /// Advances the fake clock by <paramref name="step"/> at a time until <paramref name="work"/> ends, giving the
    /// executor a moment of real time between steps; fails when the work needs more than <paramref name="limit"/> of
    /// fake time.
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> work, TimeSpan limit, TimeSpan? step = null)
    {
        await DriveAsync((Task)work, limit, step);
        return await work;
    }

    public async Task DriveAsync(Task work, TimeSpan limit, TimeSpan? step = null)
    {
        TimeSpan advance = step ?? TimeSpan.FromMilliseconds(100);
        DateTimeOffset until = Time.GetUtcNow() + limit;
        while (!work.IsCompleted)
        {
            if (Time.GetUtcNow() >= until)
            {
                throw new TimeoutException($"The work did not end within {limit.TotalSeconds} s of fake time.");
            }

            Time.Advance(advance);
            await Task.WhenAny(work, Task.Delay(2));
        }
    }

    public async ValueTask DisposeAsync()
    {
        ValueTask dispose = Cloud.DisposeAsync();
        while (!dispose.IsCompleted)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(2);
        }

        await dispose;
    }
}
