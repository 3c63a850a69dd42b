using System;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Neutral.Providers;
using Neutral.Wire;

namespace Neutral.Testing;

/// <summary>
/// A <see cref="Neutral.Cloud"/> for unit tests of <c>[Remote]</c> methods: it runs them through the real worker call
/// loop in the test's own process, on a simulated platform (<see cref="Platform"/>: queueing, cold starts, throttling,
/// lost and duplicate invocations) over an in-memory store with fault injection (<see cref="Store"/>: errors, latency,
/// listing lag, outages), all on a fake clock that <see cref="DriveAsync{T}"/> moves while the work runs. Storage is the
/// only signal of completion, as on a cloud: a job that passes here survives what the simulation injected.
/// </summary>
/// <example>
/// <code>
/// await using var sim = new SimulatedNeutral();
/// sim.Platform.LossRate = 0.05;          // one invocation in twenty never runs
/// sim.Store.ErrorRate = 0.01;            // one store operation in a hundred fails
/// int[] squares = await sim.DriveAsync(sim.Cloud.MapAsync(Enumerable.Range(0, 1000), i => Remote.MyMath.Square(i)));
/// </code>
/// </example>
public sealed class SimulatedNeutral : IAsyncDisposable
{
    /// <summary>The name the simulated platform is registered under (<c>Neutral:Compute</c>).</summary>
    public const string ComputeName = "simulated";

    /// <summary>The name the in-memory store is registered under (<c>Neutral:Storage</c>).</summary>
    public const string StorageName = "memory";

    /// <summary>Creates the simulation; <paramref name="configure"/> sets job options (retries, timeouts, speculation).</summary>
    /// <param name="configure">Changes the options after the simulation's own (its providers, the fake clock).</param>
    /// <param name="seed">The seed of the platform's and the store's dice: the same seed, the same faults.</param>
    public SimulatedNeutral(Action<NeutralOptions>? configure = null, int seed = 7)
    {
        Time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Requests = new CountingObjectStore(Memory);
        Store = new FaultInjectingObjectStore(Requests, Time, seed);
        var location = new StoreLocation(StorageName, "simulated", Neutral.Cloud.InternalPrefix);
        Platform = new SimulatedCloud(Store, location, Time, seed);
        var providers = new ProviderRegistry()
            .AddStorage(StorageName, _ => new StoreConnection(Store, location))
            .AddCompute(ComputeName, _ => Platform, StorageName);
        Cloud = Neutral.Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = ComputeName;
            o.Storage = StorageName;
            o.TimeProvider = Time;
            o.Job.SweepAfterHours = 0;
            configure?.Invoke(o);
        });
    }

    /// <summary>The fake clock every delay, deadline and back-off runs on.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The objects as they are, without faults (for assertions on what a job left behind).</summary>
    public InMemoryObjectStore Memory { get; } = new();

    /// <summary>The requests that reached <see cref="Memory"/> (those the faults let through), by kind: what a job costs in a cloud store.</summary>
    public CountingObjectStore Requests { get; }

    /// <summary>The store the client and the workers use: <see cref="Memory"/> with the faults set on it.</summary>
    public FaultInjectingObjectStore Store { get; }

    /// <summary>The platform: its queue delay, cold starts, concurrency limit, losses and duplicates.</summary>
    public SimulatedCloud Platform { get; }

    /// <summary>The client to run jobs with.</summary>
    public Cloud Cloud { get; }

    /// <summary>
    /// Moves <see cref="Time"/> on by <paramref name="step"/> (100 ms) at a time until <paramref name="work"/> ends, giving
    /// the executor a moment of real time between steps, and returns its result.
    /// </summary>
    /// <exception cref="TimeoutException">The work needed more than <paramref name="limit"/> (an hour) of fake time.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "A Task<T> and a Task overload: the argument's type picks one, never ambiguously.")]
    public async Task<T> DriveAsync<T>(Task<T> work, TimeSpan? limit = null, TimeSpan? step = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        await DriveAsync((Task)work, limit, step).ConfigureAwait(false);
        return await work.ConfigureAwait(false);
    }

    /// <summary>Moves <see cref="Time"/> on until <paramref name="work"/> ends (see <see cref="DriveAsync{T}"/>).</summary>
    /// <exception cref="TimeoutException">The work needed more than <paramref name="limit"/> (an hour) of fake time.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "A Task<T> and a Task overload: the argument's type picks one, never ambiguously.")]
    public async Task DriveAsync(Task work, TimeSpan? limit = null, TimeSpan? step = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        TimeSpan advance = step ?? TimeSpan.FromMilliseconds(100);
        TimeSpan bound = limit ?? TimeSpan.FromHours(1);
        DateTimeOffset until = Time.GetUtcNow() + bound;
        while (!work.IsCompleted)
        {
            if (Time.GetUtcNow() >= until)
            {
                throw new TimeoutException($"The work did not end within {bound.TotalSeconds} s of fake time.");
            }

            Time.Advance(advance);
            await Task.WhenAny(work, Task.Delay(2)).ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the client (moving the clock so that its cleanup ends), which stops the platform.</summary>
    public async ValueTask DisposeAsync()
    {
        ValueTask dispose = Cloud.DisposeAsync();
        while (!dispose.IsCompleted)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(2).ConfigureAwait(false);
        }

        // The cloud disposes its backend, the platform, too.
        await dispose.ConfigureAwait(false);
    }
}
