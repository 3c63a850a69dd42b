using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// The executor figures, measured end to end through the local provider (wall clock, not BenchmarkDotNet: each
/// figure is a whole job). <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- executor [aot-worker-path]</c>
/// </summary>
public static class ExecutorHarness
{
    public static async Task RunAsync(string[] args)
    {
        string? aotWorker = args.Length > 1 ? args[1] : null;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        if (Environment.GetEnvironmentVariable("BENCH_LARGE") is { } large)
        {
            await LargeMapAsync(int.Parse(large, System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        if (Environment.GetEnvironmentVariable("BENCH_ONLY_COLD") != "1")
        {
            await MapAfterConnectAsync(5_000);
            await MapThroughputAsync(1_000);
            await MapThroughputAsync(10_000);
            await RoundTripAsync();
        }

        await ColdStartAsync("JIT (the app itself, startup hook)", null);
        if (aotWorker is not null)
        {
            await ColdStartAsync("NativeAOT worker", aotWorker);
        }
    }

    private static Cloud Connect(string root, string? workerCommand = null) => Cloud.Connect(o =>
    {
        o.Local.Root = root;
        o.Local.WorkerCommand = workerCommand;
        o.Local.Isolation = Environment.GetEnvironmentVariable("BENCH_ISOLATION") ?? "process";
    });

    // The default root is .neutral in the working directory; the benchmark uses a fresh folder beside it.
    private static string Root() => Path.Combine(Environment.GetEnvironmentVariable("BENCH_ROOT") ?? Directory.GetCurrentDirectory(), ".neutral-bench-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>
    /// Deletes a benchmark's store: its root and its folder of jobs' control objects under /dev/shm. A job's cleanup may
    /// still be renaming and deleting a folder in the background: such races are retried.
    /// </summary>
    private static void DeleteRoot(string root)
    {
        foreach (string? folder in new[] { root, Neutral.Workers.Storage.FileSystemObjectStore.DefaultControlRoot(root) })
        {
            for (int attempt = 0; folder is not null && Directory.Exists(folder); attempt++)
            {
                try
                {
                    Directory.Delete(folder, true);
                }
                catch (Exception e) when ((e is IOException or DirectoryNotFoundException) && attempt < 20)
                {
                    System.Threading.Thread.Sleep(50);
                }
            }
        }
    }

    private static async Task MapThroughputAsync(int calls)
    {
        string root = Root();
        await using (Cloud cloud = Connect(root))
        {
            await cloud.MapAsync(Enumerable.Range(0, 200), BenchRemote.BenchFunctions.Noop); // warm the workers
            var best = double.MaxValue;
            for (int run = 0; run < 3; run++)
            {
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                int[] results = await cloud.MapAsync(Enumerable.Range(0, calls), BenchRemote.BenchFunctions.Noop);
                watch.Stop();
                if (Environment.GetEnvironmentVariable("BENCH_CPU") == "1")
                {
                    Console.WriteLine($"  client CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:0} ms for {watch.Elapsed.TotalMilliseconds:0} ms wall");
                }

                if (results[^1] != calls - 1)
                {
                    throw new InvalidOperationException("wrong result");
                }

                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }

            Console.WriteLine($"map of {calls,6} no-op calls: best of 3 {best * 1000,8:0.0} ms = {calls / best,8:0} calls/s");
        }

        DeleteRoot(root);
    }

    /// <summary>
    /// As a user's console app measures it: <c>Connect</c> with the default configuration (a fresh root), 20 warm-up
    /// calls one after the other, then one map; three rounds, each with its own <c>Cloud</c>.
    /// </summary>
    private static async Task MapAfterConnectAsync(int calls)
    {
        var rates = new double[3];
        for (int run = 0; run < rates.Length; run++)
        {
            string root = Root();
            await using (Cloud cloud = Connect(root))
            {
                for (int i = 0; i < 20; i++)
                {
                    await cloud.CallAsync(BenchRemote.BenchFunctions.Noop(i));
                }

                var watch = Stopwatch.StartNew();
                int[] results = await cloud.MapAsync(Enumerable.Range(0, calls), BenchRemote.BenchFunctions.Noop);
                watch.Stop();
                if (results[^1] != calls - 1)
                {
                    throw new InvalidOperationException("wrong result");
                }

                rates[run] = calls / watch.Elapsed.TotalSeconds;
            }

            DeleteRoot(root);
        }

        Array.Sort(rates);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"map of {calls,6} no-op calls after Connect + 20 warm-up calls: median of 3 {rates[1],8:0} calls/s (min {rates[0]:0}, max {rates[2]:0}); client peak working set so far {self.PeakWorkingSet64 / (1024.0 * 1024):0} MiB");
    }

    /// <summary>One large map in a fresh process: the client's CPU per call and its peak working set (workers are other processes).</summary>
    private static async Task LargeMapAsync(int calls)
    {
        string root = Root();
        await using (Cloud cloud = Connect(root))
        {
            await cloud.MapAsync(Enumerable.Range(0, 200), BenchRemote.BenchFunctions.Noop); // warm the workers
            using var self = Process.GetCurrentProcess();
            long before = self.PeakWorkingSet64;
            TimeSpan cpu = self.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            int[] results = await cloud.MapAsync(Enumerable.Range(0, calls), BenchRemote.BenchFunctions.Noop);
            watch.Stop();
            self.Refresh();
            if (results[^1] != calls - 1)
            {
                throw new InvalidOperationException("wrong result");
            }

            Console.WriteLine($"map of {calls:N0} no-op calls: {watch.Elapsed.TotalSeconds:0.00} s = {calls / watch.Elapsed.TotalSeconds:0} calls/s; " +
                $"client CPU {(self.TotalProcessorTime - cpu).TotalMilliseconds * 1000 / calls:0.0} us per call; " +
                $"client peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):0} MiB (before the map {before / (1024.0 * 1024):0} MiB)");
        }

        DeleteRoot(root);
    }

    private static async Task RoundTripAsync()
    {
        string root = Root();
        await using (Cloud cloud = Connect(root))
        {
            for (int i = 0; i < 50; i++)
            {
                await cloud.CallAsync(BenchRemote.BenchFunctions.Noop(i));
            }

            var samples = new double[500];
            for (int i = 0; i < samples.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await cloud.CallAsync(BenchRemote.BenchFunctions.Noop(i));
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(samples);
            Console.WriteLine($"warm single-call round trip: median {samples[samples.Length / 2]:0.000} ms, p90 {samples[samples.Length * 9 / 10]:0.000} ms, min {samples[0]:0.000} ms");
        }

        DeleteRoot(root);
    }

    private static async Task ColdStartAsync(string name, string? workerCommand)
    {
        var firsts = new double[5];
        // Where the time goes, per run: Connect; Connect to the call's submission; to its invocation (the worker
        // taking it, after the worker's boot); to the call's start in the worker; its run; to the client seeing its
        // status; to the result in hand.
        var parts = new double[7][];
        for (int p = 0; p < parts.Length; p++)
        {
            parts[p] = new double[firsts.Length];
        }

        for (int i = 0; i < firsts.Length; i++)
        {
            string root = Root();
            DateTimeOffset connecting = DateTimeOffset.UtcNow;
            long start = Stopwatch.GetTimestamp();
            await using (Cloud cloud = Connect(root, workerCommand))
            {
                DateTimeOffset connected = DateTimeOffset.UtcNow;
                // Connect starts the workers: timed from before it to the first result.
                var job = cloud.Submit([BenchRemote.BenchFunctions.Noop(1)]);
                await job.GetResultsAsync();
                firsts[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                DateTimeOffset done = DateTimeOffset.UtcNow;
                CallStats stats = job[0].Stats;
                if (!stats.ColdStart)
                {
                    throw new InvalidOperationException("expected a cold start");
                }

                DateTimeOffset[] marks = [connecting, connected, stats.Submitted, stats.Invoked ?? stats.Submitted, stats.WorkerStart ?? connected, stats.WorkerEnd ?? connected, stats.StatusSeen ?? done, done];
                for (int p = 0; p < parts.Length; p++)
                {
                    parts[p][i] = (marks[p + 1] - marks[p]).TotalMilliseconds;
                }
            }

            DeleteRoot(root);
        }

        Array.Sort(firsts);
        Console.WriteLine($"cold start, {name}: Connect (which starts the worker) to first result, median of 5: {firsts[2]:0.0} ms (min {firsts[0]:0.0})");
        string[] names = ["Connect", "to submitted", "to invoked", "to started in the worker", "run", "to status seen", "to result"];
        Console.WriteLine("  medians: " + string.Join(", ", names.Select((n, p) => $"{n} {BenchLoops.Median(parts[p]):0.0} ms")));
    }
}
