using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// The executor's own cost on a platform with no hints: a map of no-op calls on the simulated cloud (workers are the
/// real call loop, in this process, over an in-memory store). The client's CPU per call is the process's CPU for the
/// map less the CPU of the same calls run through the call loop alone; the peak working set is the process's.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- simulated [calls]</c>
/// </summary>
public static class SimulatedHarness
{
    public static async Task RunAsync(string[] args)
    {
        int calls = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {calls:N0} no-op calls");
        var memory = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "bench", Cloud.InternalPrefix);
        var platform = new SimulatedCloud(memory, location, TimeProvider.System);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(memory, location))
            .AddCompute("simulated", _ => platform);

        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "simulated";
            o.Storage = "memory";
            o.Job.SweepAfterHours = 0;
            o.Job.KeepData = true; // measured below, then deleted
        });
        await cloud.MapAsync(Enumerable.Range(0, 1000), BenchRemote.BenchFunctions.Noop); // JIT warm-up
        await memory.DeletePrefixAsync(Cloud.InternalPrefix + "jobs/");
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        long peak = before;
        using var sampler = new Timer(_ => InterlockedMax(ref peak, GC.GetTotalMemory(false)), null, 0, 5);
        TimeSpan listingBefore = memory.ListingTime;
        int listingsBefore = memory.Listings;
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        RemoteJob<int>? job = cloud.Submit(Enumerable.Range(0, calls).Select(BenchRemote.BenchFunctions.Noop));
        int[]? results = await job.GetResultsAsync();
        watch.Stop();
        TimeSpan total = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        InterlockedMax(ref peak, GC.GetTotalMemory(false));
        await sampler.DisposeAsync();

        // The store's share of the heap: what deleting the job's objects frees.
        long withData = GC.GetTotalMemory(forceFullCollection: true);
        await memory.DeletePrefixAsync(Cloud.InternalPrefix + "jobs/");
        long withoutData = GC.GetTotalMemory(forceFullCollection: true);
        long storeBytes = withData - withoutData;
        if (results![^1] != calls - 1)
        {
            throw new InvalidOperationException("wrong result");
        }

        GC.KeepAlive(job);
        GC.KeepAlive(results);
        job = null;
        results = null;
        long released = GC.GetTotalMemory(forceFullCollection: true);

        // The workers' share of the CPU: the same calls through the call loop alone.
        TimeSpan workers = await WorkerBaselineAsync(calls);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"map: {watch.Elapsed.TotalSeconds:0.00} s wall, {calls / watch.Elapsed.TotalSeconds:0} calls/s");
        TimeSpan listing = memory.ListingTime - listingBefore;
        int listings = memory.Listings - listingsBefore;
        Console.WriteLine($"process CPU {total.TotalSeconds:0.00} s; the platform alone {workers.TotalSeconds:0.00} s; the store serving {listings} listings {listing.TotalSeconds:0.00} s");
        Console.WriteLine($"client CPU per call: {(total - workers - listing).TotalMilliseconds * 1000 / calls:0.0} us");
        Console.WriteLine($"client live memory at the end of the map (futures, results, call states, packed arguments), after a full collection: {(withoutData - before) / Mi:0} MiB");
        Console.WriteLine($"managed heap: peak {(peak - before) / Mi:0} MiB above the start, of which the simulated store's objects {storeBytes / Mi:0} MiB: client peak including garbage not yet collected {(peak - before - storeBytes) / Mi:0} MiB");
        Console.WriteLine($"process peak working set (client, in-process workers and store together): {self.PeakWorkingSet64 / Mi:0} MiB");
    }

    private const double Mi = 1024.0 * 1024;

    private static void InterlockedMax(ref long target, long value)
    {
        long seen = Interlocked.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
            seen = Interlocked.Read(ref target);
        }
    }

    /// <summary>The platform's side alone: the same invocations straight into a simulated cloud, no executor.</summary>
    private static async Task<TimeSpan> WorkerBaselineAsync(int calls)
    {
        var store = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "baseline", Cloud.InternalPrefix);
        await using var platform = new SimulatedCloud(store, location, TimeProvider.System);
        RemoteCall<int>[] stubs = Enumerable.Range(0, calls).Select(BenchRemote.BenchFunctions.Noop).ToArray();
        string hash = InvocationEnvelope.FormatHash(stubs[0].Function.SignatureHash);
        async Task RunAsync(string job, int count)
        {
            for (int i = 0; i < count; i++)
            {
                await platform.InvokeAsync(new InvocationEnvelope
                {
                    JobId = job,
                    CallIndex = i,
                    FunctionId = stubs[i].Function.Id,
                    SignatureHash = hash,
                    InlineInput = stubs[i].Arguments.ToArray(),
                    Attempt = 1,
                    Store = location,
                });
            }

            var waited = Stopwatch.StartNew();
            while (platform.Active > 0)
            {
                await Task.Delay(1);
                if (waited.Elapsed > TimeSpan.FromSeconds(5))
                {
                    Console.Error.WriteLine($"still {platform.Active} active of {platform.Invocations}; store holds {store.Count}");
                    waited.Restart();
                }
            }
        }

        await RunAsync("warmup", Math.Min(calls, 1000));
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        await RunAsync("baseline", calls);
        return Process.GetCurrentProcess().TotalProcessorTime - cpu;
    }
}
