using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Bench;
using Neutral.Providers.Aws;
using Neutral.Providers.Azure;
using Neutral.Providers.OpenWhisk;
using Neutral.Providers.Redis;
using Neutral.Testing;
using StackExchange.Redis;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// The PyWren paper's microbenchmarks (section 3.2) on this machine, as markdown tables: compute per worker (a
/// vectorized single-precision matrix multiply inside calls against the same kernel in this process, 1 to N local
/// workers), storage bandwidth per worker from inside calls (64 MiB objects) for every store that runs here, and
/// Redis 128-byte latency against the number of concurrent callers.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- paper [MiB]</c>, with scripts/services.sh's
/// variables exported (a store whose variables are missing is left out and said so).
/// </summary>
public static class PaperHarness
{
    private const int MatrixSize = 512;
    private const int Products = 8;

    public static async Task RunAsync(string[] args)
    {
        BenchFunctions.EnsureRegistered();
        int mib = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await ComputeAsync();
        await BandwidthAsync(mib);
        await RedisLatencyAsync();
    }

    private static async Task ComputeAsync()
    {
        Console.WriteLine();
        Console.WriteLine($"Compute: {MatrixSize} x {MatrixSize} single-precision products (Vector<float> of {System.Numerics.Vector<float>.Count}), {Products} a call; the paper: about 18 GFLOPS per core (AVX2 on Lambda).");
        Console.WriteLine();
        // Ten rounds, the median of the last three: by then the kernel runs as the JIT's final tier here, as it does at
        // once in workers (DOTNET_TC_QuickJitForLoops=0).
        double inProcess = Median(Enumerable.Range(0, 10).Select(_ => MatMul.Gflops(MatrixSize, Products)).Skip(7));
        Console.WriteLine("| workers | GFLOPS per worker (median of calls) | GFLOPS, all workers | in this process, one thread |");
        Console.WriteLine("|---|---|---|---|");
        for (int workers = 1; workers <= Environment.ProcessorCount; workers++)
        {
            using var root = new TempFolder("neutral-paper-compute");
            int local = workers;
            await using Cloud cloud = await Cloud.ConnectAsync(o =>
            {
                o.Local.Root = root.Path;
                o.Local.Workers = local;
                o.Job.Speculation = false;
            });
            await cloud.MapAsync(Enumerable.Range(0, workers), _ => BenchRemote.PaperFunctions.MatMulGflops(64, 1)); // every worker up and its code compiled
            var rounds = new List<double[]>();
            for (int round = 0; round < 3; round++)
            {
                rounds.Add(await cloud.MapAsync(Enumerable.Range(0, workers), _ => BenchRemote.PaperFunctions.MatMulGflops(MatrixSize, Products)));
            }

            double perWorker = Median(rounds.SelectMany(r => r));
            double total = Median(rounds.Select(r => r.Sum()));
            Console.WriteLine($"| {workers} | {perWorker:0.0} | {total:0.0} | {inProcess:0.0} |");
        }
    }

    private static async Task BandwidthAsync(int mib)
    {
        Console.WriteLine();
        Console.WriteLine($"Storage bandwidth per worker from inside calls: one {mib} MiB object written, read back, deleted; the paper: 30 MB/s write and 40 MB/s read per worker on S3.");
        Console.WriteLine();
        var settings = new Dictionary<string, string?>();
        var stores = new List<(string Label, string? Name)> { ("file system (local)", null) };
        void Add(string label, string name, string kind, params (string Key, string? Value)[] values)
        {
            if (values.Any(v => string.IsNullOrEmpty(v.Value)))
            {
                Console.WriteLine($"({label}: left out, its server's variables are not set)");
                return;
            }

            settings[$"Neutral:Stores:{name}:Kind"] = kind;
            foreach (var (key, value) in values)
            {
                settings[key] = value;
            }

            stores.Add((label, name));
        }

        string? s3 = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ENDPOINT");
        string? accessKey = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ACCESS_KEY");
        string? secretKey = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_SECRET_KEY");
        AwsProvider.Register();
        OpenWhiskProvider.Register();
        AzureProvider.Register();
        RedisProvider.Register();
        Add("S3 client on Ceph RGW", "s3", AwsProvider.StoreKind, ("Neutral:Aws:Region", "us-east-1"), ("Neutral:Aws:Bucket", "neutral-paper-s3"),
            ("Neutral:Aws:ServiceUrl", s3), ("Neutral:Aws:AccessKeyId", accessKey), ("Neutral:Aws:SecretAccessKey", secretKey));
        Add("MinIO client on Ceph RGW", "minio", OpenWhiskProvider.StoreKind, ("Neutral:Minio:Endpoint", s3 is null ? null : new Uri(s3).Authority),
            ("Neutral:Minio:Bucket", "neutral-paper-minio"), ("Neutral:Minio:AccessKey", accessKey), ("Neutral:Minio:SecretKey", secretKey), ("Neutral:Minio:Secure", "false"));
        Add("Blob on Azurite", "blob", AzureProvider.StoreKind, ("Neutral:Azure:ConnectionString", Environment.GetEnvironmentVariable("NEUTRAL_TEST_AZURE_CONNECTION_STRING")),
            ("Neutral:Azure:Container", "neutral-paper"));
        Add("Redis", "redis", RedisProvider.StoreKind, ("Neutral:Redis:Configuration", Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS")));

        using var root = new TempFolder("neutral-paper-bandwidth");
        settings["Neutral:Local:Root"] = root.Path;
        settings["Neutral:Job:Speculation"] = "false";
        await using Cloud cloud = await Cloud.ConnectAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        Console.WriteLine();
        Console.WriteLine("| store | workers at once | write MB/s per worker | read MB/s per worker |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (label, name) in stores)
        {
            foreach (int workers in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                var rounds = new List<Bandwidth>();
                for (int round = 0; round < 3; round++)
                {
                    rounds.AddRange(await cloud.MapAsync(Enumerable.Range(0, workers), _ => BenchRemote.PaperFunctions.StoreBandwidth(name, mib)));
                }

                Console.WriteLine($"| {label} | {workers} | {Median(rounds.Select(r => r.WriteMBps)):0} | {Median(rounds.Select(r => r.ReadMBps)):0} |");
            }
        }
    }

    private static async Task RedisLatencyAsync()
    {
        string? server = Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS");
        Console.WriteLine();
        if (server is null)
        {
            Console.WriteLine("(Redis latency: left out, NEUTRAL_TEST_REDIS is not set)");
            return;
        }

        Console.WriteLine($"Redis 128-byte latency against concurrent callers (tasks over one connection, this process, {server}); the paper: under 1 ms up to 1,000 workers.");
        Console.WriteLine();
        Console.WriteLine("| callers | put p50 | put p99 | get p50 | get p99 | operations/s |");
        Console.WriteLine("|---|---|---|---|---|---|");
        using var store = new RedisObjectStore(ConfigurationOptions.Parse(server), "paper" + Guid.NewGuid().ToString("N")[..8] + ":");
        await store.ConnectAsync();
        byte[] data = new byte[128];
        foreach (int callers in new[] { 1, 10, 100, 1000 })
        {
            const int Operations = 20_000;
            var puts = new List<double>();
            var gets = new List<double>();
            var gate = new object();
            int next = 0;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
            {
                var myPuts = new List<double>();
                var myGets = new List<double>();
                while (System.Threading.Interlocked.Increment(ref next) <= Operations / 2)
                {
                    string key = $"lat/{c % 64:D2}/o{c}";
                    long start = Stopwatch.GetTimestamp();
                    await store.PutAsync(key, data);
                    myPuts.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    start = Stopwatch.GetTimestamp();
                    await store.GetAsync(key);
                    myGets.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }

                lock (gate)
                {
                    puts.AddRange(myPuts);
                    gets.AddRange(myGets);
                }
            })));
            double seconds = watch.Elapsed.TotalSeconds;
            puts.Sort();
            gets.Sort();
            Console.WriteLine($"| {callers:N0} | {puts[puts.Count / 2]:0.00} ms | {puts[puts.Count * 99 / 100]:0.00} ms | {gets[gets.Count / 2]:0.00} ms | {gets[gets.Count * 99 / 100]:0.00} ms | {Operations / seconds:N0} |");
        }

        await store.DeletePrefixAsync("");
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
