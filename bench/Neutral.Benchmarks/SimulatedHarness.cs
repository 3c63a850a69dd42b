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
        bool wait = args.Length > 2 && args[2] == "wait1ms";
        // BENCH_BATCH: Job:CallsPerInvocation, a number or auto.
        string? batchSetting = Environment.GetEnvironmentVariable("BENCH_BATCH");
        int perInvocation = batchSetting == "auto" ? JobOptions.AutomaticCallsPerInvocation : int.TryParse(batchSetting, out int batch) ? batch : 1;
        Func<int, RemoteCall<int>> function = wait ? BenchRemote.BenchFunctions.WaitOneMillisecond : BenchRemote.BenchFunctions.Noop;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {calls:N0} {(wait ? "1 ms" : "no-op")} calls, {batchSetting ?? "1"} per invocation; platform concurrency limit {Environment.GetEnvironmentVariable("BENCH_CONCURRENCY") ?? "none"}; client to store {Environment.GetEnvironmentVariable("BENCH_CLIENT_STORE_MS") ?? "0"} ms");
        var memory = new InMemoryObjectStore();
        var requests = new CountingObjectStore(memory);
        var location = new StoreLocation("memory", "bench", Cloud.InternalPrefix);
        var platform = new SimulatedCloud(requests, location, TimeProvider.System)
        {
            // BENCH_CONCURRENCY: the platform's concurrency limit (Lambda's default account limit is 1,000); unset, none.
            ConcurrencyLimit = int.TryParse(Environment.GetEnvironmentVariable("BENCH_CONCURRENCY"), out int limit) ? limit : 0,
        };

        // The platform's CPU in this very run: each worker call loop's thread time (a no-op call over the in-memory
        // store runs on one thread from start to end; a run that moved threads is counted apart and left out).
        long platformTicks = 0, hopped = 0;
        platform.AroundRun = (_, run) =>
        {
            int thread = Environment.CurrentManagedThreadId;
            long before = ThreadCpu.Ticks();
            Task task = run();
            if (task.IsCompleted && Environment.CurrentManagedThreadId == thread)
            {
                Interlocked.Add(ref platformTicks, ThreadCpu.Ticks() - before);
                return task;
            }

            Interlocked.Increment(ref hopped);
            return task;
        };
        // BENCH_CLIENT_STORE_MS: a round trip between the client and the store (a laptop far from its region), none
        // between the platform's workers and the store.
        int clientStoreMs = int.TryParse(Environment.GetEnvironmentVariable("BENCH_CLIENT_STORE_MS"), out int ms) ? ms : 0;
        IObjectStore clientStore = clientStoreMs == 0 ? requests : new FaultInjectingObjectStore(requests, TimeProvider.System) { Latency = TimeSpan.FromMilliseconds(clientStoreMs) };
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(clientStore, location))
            .AddCompute("simulated", _ => platform);

        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "simulated";
            o.Storage = "memory";
            o.Job.SweepAfterHours = 0;
            o.Job.KeepData = true; // measured below, then deleted
            o.Job.CallsPerInvocation = perInvocation;
        });
        await cloud.MapAsync(Enumerable.Range(0, 20_000), BenchRemote.BenchFunctions.Noop); // JIT warm-up (past tiered compilation's first tier)
        await memory.DeletePrefixAsync(Cloud.InternalPrefix + "jobs/");
        GC.Collect();
        // When each call's status marker was written (UTC ticks, by call index): the completion notice counts from it.
        long[] markerWritten = new long[calls];
        string? measuredJob = null;
        requests.Written = key =>
        {
            int name = key.LastIndexOf('/');
            if (measuredJob is { } id && key.Contains(id, StringComparison.Ordinal)
                && StorageLayout.TryParseSlotMarker(key.AsSpan(name + 1), out int index, out _, out char kind) && kind == 't' && index < calls)
            {
                Volatile.Write(ref markerWritten[index], DateTime.UtcNow.Ticks);
            }
        };
        long before = GC.GetTotalMemory(forceFullCollection: true);
        long peak = before;
        using var sampler = new Timer(_ => InterlockedMax(ref peak, GC.GetTotalMemory(false)), null, 0, 5);
        long polls = 0;
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Neutral" && instrument.Name == "neutral.polls")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref polls, value));
        meters.Start();
        requests.Reset();
        int warmInvocations = platform.Invocations;
        Interlocked.Exchange(ref platformTicks, 0);
        Interlocked.Exchange(ref hopped, 0);
        TimeSpan listingBefore = memory.ListingTime;
        int listingsBefore = memory.Listings;
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        RemoteJob<int>? job = cloud.Submit(Enumerable.Range(0, calls).Select(function));
        measuredJob = "/" + job.JobId + "/";
        int[]? results = await job.GetResultsAsync();
        watch.Stop();
        TimeSpan total = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        TimeSpan platformCpu = TimeSpan.FromTicks(Interlocked.Read(ref platformTicks));
        long platformHopped = Interlocked.Read(ref hopped);
        InterlockedMax(ref peak, GC.GetTotalMemory(false));
        await sampler.DisposeAsync();
        meters.Dispose();
        long lists = requests.Lists, listedKeys = requests.ListedKeys, largest = requests.LargestListing, puts = requests.Puts, gets = requests.Gets;

        await job.Completion; // the job's own end

        // The store's share of the heap: what deleting the job's objects frees.
        long withData = GC.GetTotalMemory(forceFullCollection: true);
        await memory.DeletePrefixAsync(Cloud.InternalPrefix + "jobs/");
        long withoutData = GC.GetTotalMemory(forceFullCollection: true);
        long storeBytes = withData - withoutData;
        if (results![^1] != calls - 1)
        {
            throw new InvalidOperationException("wrong result");
        }


        // How long after its worker ended each call's status was seen (one clock: the workers run in this process).
        double[] notice = job.Timeline.Calls.Select(c => (c.StatusSeen!.Value - c.WorkerEnd!.Value).TotalMilliseconds).Order().ToArray();
        System.Collections.Generic.IReadOnlyList<CallStats> stats = job.Timeline.Calls;
        double[] afterMarker = Enumerable.Range(0, calls).Where(i => markerWritten[i] > 0)
            .Select(i => (stats[i].StatusSeen!.Value.UtcTicks - markerWritten[i]) / 10_000.0).Order().ToArray();
        GC.KeepAlive(job);
        GC.KeepAlive(results);
        var weak = new WeakReference(job);
        job = null;
        results = null;
        long released = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"job released: {!weak.IsAlive}; freed {(withoutData - released) / Mi:0} MiB");

        // The workers' share of the CPU: the same calls through the call loop alone.
        // With auto, the baseline runs batches of the map's mean size.
        int meanBatch = Math.Max(1, (int)Math.Round((double)calls / Math.Max(1, platform.Invocations - warmInvocations)));
        TimeSpan workers = await WorkerBaselineAsync(calls, function, perInvocation == JobOptions.AutomaticCallsPerInvocation ? meanBatch : perInvocation);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"map: {watch.Elapsed.TotalSeconds:0.00} s wall, {calls / watch.Elapsed.TotalSeconds:0} calls/s, {platform.Invocations - warmInvocations:N0} invocations");
        TimeSpan listing = memory.ListingTime - listingBefore;
        int listings = memory.Listings - listingsBefore;
        Console.WriteLine($"process CPU {total.TotalSeconds:0.00} s; the platform alone {workers.TotalSeconds:0.00} s; the store serving {listings} listings {listing.TotalSeconds:0.00} s");
        Console.WriteLine($"client CPU per call: {(total - workers - listing).TotalMilliseconds * 1000 / calls:0.0} us (less a platform-only run)");
        if (ThreadCpu.Supported)
        {
            Console.WriteLine($"client CPU per call, less the platform's thread time measured in the map itself ({platformCpu.TotalSeconds:0.00} s, {platformHopped} runs not measured): {(total - platformCpu - listing).TotalMilliseconds * 1000 / calls:0.0} us");
        }
        Console.WriteLine($"requests: {lists} LIST ({(double)lists * 1000 / calls:0.0} per 1,000 calls; {polls} polls, {(double)lists / Math.Max(1, polls):0.00} LIST a poll; {listedKeys:N0} keys listed, at most {largest:N0} in one listing), {puts:N0} PUT, {gets:N0} GET");
        Console.WriteLine($"listing budget 3 x calls / 1,000 + 10 a poll: {3.0 * calls / 1000 + 10.0 * polls:0} LIST; used {lists}");
        Console.WriteLine($"status seen after the worker ended: p50 {notice[notice.Length / 2]:0.0} ms, p99 {notice[(int)(notice.Length * 0.99)]:0.0} ms, max {notice[^1]:0.0} ms; mean time between polls {watch.Elapsed.TotalMilliseconds / Math.Max(1, polls):0.0} ms");
        double interval = watch.Elapsed.TotalMilliseconds / Math.Max(1, polls);
        Console.WriteLine($"status seen after its marker was written (completion noticed): p50 {afterMarker[afterMarker.Length / 2]:0.0} ms, p99 {afterMarker[(int)(afterMarker.Length * 0.99)]:0.0} ms ({afterMarker[(int)(afterMarker.Length * 0.99)] / interval:0.0} mean poll intervals), max {afterMarker[^1]:0.0} ms");
        Console.WriteLine($"client live memory at the end of the map (results, call states and records, packed arguments), after a full collection: {(withoutData - before) / Mi:0} MiB, {(double)(withoutData - before) / calls:0} bytes a call");
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
    private static async Task<TimeSpan> WorkerBaselineAsync(int calls, Func<int, RemoteCall<int>> function, int perInvocation)
    {
        var store = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "baseline", Cloud.InternalPrefix);
        await using var platform = new SimulatedCloud(store, location, TimeProvider.System);
        RemoteCall<int>[] stubs = Enumerable.Range(0, calls).Select(function).ToArray();
        string hash = InvocationEnvelope.FormatHash(stubs[0].Function.SignatureHash);
        async Task RunAsync(string job, int count)
        {
            for (int i = 0; i < count; i += perInvocation)
            {
                int first = i;
                await platform.InvokeAsync(new InvocationEnvelope
                {
                    Batch = perInvocation == 1 ? null : Enumerable.Range(first + 1, Math.Min(perInvocation, count - first) - 1)
                        .Select(k => new BatchedCall(k, 1, k / 400, stubs[k].Arguments.ToArray())).ToArray(),
                    JobId = job,
                    CallIndex = i,
                    FunctionId = stubs[i].Function.Id,
                    SignatureHash = hash,
                    InlineInput = stubs[i].Arguments.ToArray(),
                    Attempt = 1,
                    Slot = i / 400, // the markers a client's envelope asks for, as in the map
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

/// <summary>The calling thread's CPU time (Linux: getrusage RUSAGE_THREAD).</summary>
internal static class ThreadCpu
{
    public static bool Supported => OperatingSystem.IsLinux();

    public static long Ticks()
    {
        if (!Supported || GetRusage(1, out RUsage usage) != 0)
        {
            return 0;
        }

        return (usage.UserSeconds + usage.SystemSeconds) * TimeSpan.TicksPerSecond + (usage.UserMicroseconds + usage.SystemMicroseconds) * 10;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, out RUsage usage);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw;
    }
}
