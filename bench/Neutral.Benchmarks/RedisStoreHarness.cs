using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Providers.Redis;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Neutral.Benchmarks;

/// <summary>
/// <see cref="RedisObjectStore"/> against raw StackExchange.Redis commands on the same connection (SET, GET, SET NX,
/// GETRANGE): 128-byte and 64 KiB objects, one at a time and 64 at once; 128-byte put and get latency one at a time; and
/// listing a 1,000-key prefix in a database of 1,000,000 keys, against a SCAN of the keyspace.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- redis-store</c> (<c>BENCH_REDIS</c> names another
/// server; the default is scripts/services.sh's, 127.0.0.1:6390). <c>BENCH_REDIS_KEYS</c> changes the 1,000,000.
/// </summary>
public static class RedisStoreHarness
{
    public static async Task RunAsync()
    {
        string server = Environment.GetEnvironmentVariable("BENCH_REDIS") ?? "127.0.0.1:6390";
        int total = int.Parse(Environment.GetEnvironmentVariable("BENCH_REDIS_KEYS") ?? "1000000", System.Globalization.CultureInfo.InvariantCulture);
        string prefix = "bench" + Guid.NewGuid().ToString("N")[..8] + ":";
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; Redis at {server}, key prefix {prefix}");
        using var store = new RedisObjectStore(ConfigurationOptions.Parse(server), prefix);
        await store.ConnectAsync();
        IDatabase raw = await store.Connection.DatabaseAsync();
        try
        {
            await CompareAsync(store, raw, prefix);
            await LatencyAsync(store);
            await ListingAsync(store, raw, prefix, total);
        }
        finally
        {
            await store.DeletePrefixAsync("");
            await DeleteRawAsync(raw, prefix);
        }
    }

    private static async Task CompareAsync(RedisObjectStore store, IDatabase raw, string prefix)
    {
        foreach (int size in new[] { 128, 64 * 1024 })
        {
            byte[] data = new byte[size];
            Random.Shared.NextBytes(data);
            const int Sources = 64;
            for (int i = 0; i < Sources; i++)
            {
                await store.PutAsync(Source(size, i), data);
                await raw.StringSetAsync(prefix + "raw-src:" + Source(size, i), data);
            }

            foreach (int inFlight in new[] { 1, 64 })
            {
                int ops = (size, inFlight) switch { (128, 1) => 5_000, (128, _) => 40_000, (_, 1) => 500, _ => 2_000 };
                string label = $"{(size < 1024 ? $"{size} B" : $"{size / 1024} KiB"),7}, {inFlight,2} at once, {ops,6} ops";
                Task Cleanup() => Task.WhenAll(store.DeletePrefixAsync("w/"), DeleteRawAsync(raw, prefix + "w/"));
                await BenchLoops.CompareAsync($"put        {label}", Cleanup, ops, inFlight,
                    (key, i) => raw.StringSetAsync(prefix + key, data),
                    (key, i) => store.PutAsync(key, data));
                // The same work done by hand: the object and an index entry, atomically (what listing needs).
                await BenchLoops.CompareAsync($"put+index  {label}", Cleanup, ops, inFlight,
                    (key, i) =>
                    {
                        ITransaction transaction = raw.CreateTransaction();
                        _ = transaction.StringSetAsync(prefix + key, data);
                        _ = transaction.SortedSetAddAsync(prefix + "raw-index", key, 0);
                        return transaction.ExecuteAsync();
                    },
                    (key, i) => store.PutAsync(key, data));
                await BenchLoops.CompareAsync($"get        {label}", Cleanup, ops, inFlight,
                    (key, i) => raw.StringGetAsync(prefix + "raw-src:" + Source(size, i % Sources)),
                    (key, i) => store.GetAsync(Source(size, i % Sources)));
                await BenchLoops.CompareAsync($"create     {label}", Cleanup, ops, inFlight,
                    (key, i) => raw.StringSetAsync(prefix + key, data, when: When.NotExists),
                    (key, i) => store.TryCreateAsync(key, data));
                await BenchLoops.CompareAsync($"range 64 B {label}", Cleanup, ops, inFlight,
                    (key, i) => raw.StringGetRangeAsync(prefix + "raw-src:" + Source(size, i % Sources), 16, 16 + 63),
                    (key, i) => store.GetRangeAsync(Source(size, i % Sources), 16, 64));
            }
        }
    }

    private static async Task LatencyAsync(RedisObjectStore store)
    {
        byte[] data = new byte[128];
        const int Ops = 5_000;
        var put = new double[Ops];
        var get = new double[Ops];
        for (int i = 0; i < Ops; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await store.PutAsync($"lat/{i % 100:D3}/o{i}", data);
            put[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            start = Stopwatch.GetTimestamp();
            await store.GetAsync($"lat/{i % 100:D3}/o{i}");
            get[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(put);
        Array.Sort(get);
        Console.WriteLine($"latency, 128 B, one at a time, {Ops} ops: put p50 {put[Ops / 2]:0} µs, p99 {put[Ops * 99 / 100]:0} µs; get p50 {get[Ops / 2]:0} µs, p99 {get[Ops * 99 / 100]:0} µs");
        await store.DeletePrefixAsync("lat/");
    }

    private static async Task ListingAsync(RedisObjectStore store, IDatabase raw, string prefix, int total)
    {
        const int PerFolder = 1_000;
        int folders = total / PerFolder;
        byte[] data = new byte[16];
        var fill = Stopwatch.StartNew();
        await BenchLoops.InParallelAsync(total, 256, i => store.PutAsync($"big/{i / PerFolder:D4}/{i % PerFolder:D4}", data));
        Console.WriteLine($"listing: {total:N0} objects in {folders:N0} folders written in {fill.Elapsed.TotalSeconds:0.0} s ({total / fill.Elapsed.TotalSeconds:N0}/s, 256 at once)");

        string mine = $"big/{folders / 2:D4}/";
        ConnectionMultiplexer multiplexer = await store.Connection.MultiplexerAsync();
        var times = new double[7];
        int commands = 0;
        for (int round = 0; round < times.Length; round++)
        {
            var session = new ProfilingSession();
            multiplexer.RegisterProfiler(() => session);
            long start = Stopwatch.GetTimestamp();
            int listed = await store.ListAsync(mine).CountAsync();
            times[round] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            multiplexer.RegisterProfiler(() => null);
            commands = session.FinishProfiling().Count();
            if (listed != PerFolder)
            {
                throw new InvalidOperationException($"listed {listed} of {PerFolder}");
            }
        }

        Console.WriteLine($"list a {PerFolder:N0}-key prefix among {total:N0} keys: median {BenchLoops.Median(times):0.00} ms over {times.Length} rounds, {commands} commands (no SCAN, no KEYS)");

        // What a store without indexes would do: walk the keyspace for the prefix.
        var scan = Stopwatch.StartNew();
        IServer node = multiplexer.GetServers().First();
        int matched = 0;
        await foreach (RedisKey _ in node.KeysAsync(pattern: prefix + "{/" + mine + "}o:*", pageSize: 1000))
        {
            matched++;
        }

        Console.WriteLine($"the same prefix by SCAN MATCH over the keyspace: {scan.Elapsed.TotalMilliseconds:0} ms ({matched:N0} keys matched)");
        var delete = Stopwatch.StartNew();
        int deleted = await store.DeletePrefixAsync("big/");
        Console.WriteLine($"delete the {deleted:N0} objects under big/: {delete.Elapsed.TotalSeconds:0.0} s");
    }

    private static string Source(int size, int i) => $"src/{size}/{i:D3}";

    private static async Task DeleteRawAsync(IDatabase raw, string prefix)
    {
        ConnectionMultiplexer multiplexer = (ConnectionMultiplexer)raw.Multiplexer;
        foreach (IServer server in multiplexer.GetServers())
        {
            await foreach (RedisKey key in server.KeysAsync(pattern: prefix + "raw*", pageSize: 1000))
            {
                await raw.KeyDeleteAsync(key);
            }

            await foreach (RedisKey key in server.KeysAsync(pattern: prefix + "w/*", pageSize: 1000))
            {
                await raw.KeyDeleteAsync(key);
            }
        }
    }
}
