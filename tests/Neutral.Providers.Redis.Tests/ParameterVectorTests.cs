using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Neutral.Testing;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Neutral.Providers.Redis.Tests;

public static class ParameterFunctions
{
    /// <summary>Adds (call + 1) to every element, <paramref name="times"/> times, as worker "w{call}".</summary>
    [Remote]
    public static async Task<long> AddOwnIndex(ParameterVectorInfo vector, int times, RemoteContext context)
    {
        ParameterVector<double> parameters = ParameterVector.Open<double>(context, vector);
        double[] delta = Enumerable.Repeat((double)(context.CallIndex + 1), vector.Length).ToArray();
        long version = 0;
        for (int i = 0; i < times; i++)
        {
            ParameterSnapshot<double> seen = await parameters.ReadAsync(context.CancellationToken);
            Assert.Equal(vector.Length, seen.Values.Length);
            version = await parameters.AddAsync(delta, $"w{context.CallIndex}", context.CancellationToken);
        }

        await parameters.LeaveAsync($"w{context.CallIndex}", context.CancellationToken);
        return version;
    }
}

/// <summary>The parameter server on the Redis Cluster: shards spread over the nodes, adds from many callers sum exactly.</summary>
public sealed class ParameterVectorTests(RedisClusterFixture redis) : IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task Concurrent_adds_from_many_callers_sum_exactly_across_shards_on_every_node()
    {
        const int Length = 1_000, Callers = 32, Adds = 20;
        double[] initial = Enumerable.Range(0, Length).Select(i => (double)i).ToArray();
        ParameterVector<double> vector = await ParameterVector.CreateAsync<double>(redis.Store, "hammered", initial, shardLength: 64);
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            ParameterVector<double> mine = ParameterVector.Open<double>(redis.Store, vector.Info);
            double[] delta = Enumerable.Range(0, Length).Select(i => (double)((c + 1) * ((i % 7) + 1))).ToArray();
            for (int a = 0; a < Adds; a++)
            {
                await mine.AddAsync(delta);
            }
        })));

        ParameterSnapshot<double> final = await vector.ReadAsync();
        long perElement = Adds * Enumerable.Range(1, Callers).Sum();
        Assert.Equal(Enumerable.Range(0, Length).Select(i => i + (double)(perElement * ((i % 7) + 1))), final.Values);
        Assert.Equal(Callers * Adds, final.Version);

        // 16 shards of 64 elements, each its own hash tag: they spread over the cluster's three nodes.
        ConnectionMultiplexer multiplexer = await redis.Store.Connection.MultiplexerAsync();
        var nodes = Enumerable.Range(0, 16).Select(s => multiplexer.GetServer((RedisKey)$"{redis.KeyPrefix}{{ps:hammered:{s}}}").EndPoint.ToString()).Distinct().Count();
        Assert.Equal(3, nodes);
        Assert.False((await multiplexer.GetDatabase().StringGetAsync($"{redis.KeyPrefix}{{ps:hammered:15}}")).IsNull);
        await vector.DeleteAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => vector.ReadAsync());
    }

    [Fact]
    public async Task Floats_add_on_the_server_as_floats_and_the_script_runs_by_its_SHA()
    {
        ParameterVector<float> vector = await ParameterVector.CreateAsync<float>(redis.Store, "floats", new float[] { 0.5f, -1.25f, 3f });
        ConnectionMultiplexer multiplexer = await redis.Store.Connection.MultiplexerAsync();
        await vector.AddAsync(new float[] { 0.25f, 0.25f, 0.1f });
        var session = new ProfilingSession();
        multiplexer.RegisterProfiler(() => session);
        try
        {
            await vector.AddAsync(new float[] { 0.25f, 0.25f, 0.1f });
        }
        finally
        {
            multiplexer.RegisterProfiler(() => null);
        }

        Assert.Contains(session.FinishProfiling(), c => c.Command == "EVALSHA");
        ParameterSnapshot<float> read = await vector.ReadAsync();
        Assert.Equal(new[] { 1f, -0.75f, 3f + 0.1f + 0.1f }, read.Values);
        Assert.Equal(2, read.Version);
        await vector.DeleteAsync();
    }

    [Fact]
    public async Task A_worker_ahead_of_the_slowest_by_more_than_the_bound_waits_until_it_catches_up_or_leaves()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        ParameterVector<double> vector = await ParameterVector.CreateAsync<double>(redis.Store, "stale", new double[4], time: time);
        await vector.ReadBoundedAsync("fast", maxStaleness: 2);
        await vector.ReadBoundedAsync("slow", maxStaleness: 2);
        for (int i = 0; i < 3; i++)
        {
            await vector.AddAsync(new double[] { 1, 1, 1, 1 }, "fast");
        }

        // Three ahead of "slow" with a bound of two: the read waits, however long the clock runs.
        Task<ParameterSnapshot<double>> waiting = vector.ReadBoundedAsync("fast", maxStaleness: 2);
        Assert.False(await CompletesAsync(waiting, time, rounds: 20), "the read did not wait for the slowest worker");

        await vector.AddAsync(new double[] { 1, 1, 1, 1 }, "slow");
        Assert.True(await CompletesAsync(waiting, time, rounds: 200), "the read still waits once the slowest worker is two behind");
        Assert.Equal(4, (await waiting).Version);

        // With no bound to spare, "fast" waits for "slow" again, until "slow" leaves.
        await vector.AddAsync(new double[] { 1, 1, 1, 1 }, "fast");
        Task<ParameterSnapshot<double>> again = vector.ReadBoundedAsync("fast", maxStaleness: 0);
        Assert.False(await CompletesAsync(again, time, rounds: 20), "the read did not wait");
        await vector.LeaveAsync("slow");
        Assert.True(await CompletesAsync(again, time, rounds: 200), "the read still waits for a worker that left");
        await vector.DeleteAsync();
    }

    [Fact]
    public async Task Calls_on_local_workers_add_through_a_named_Redis_store_and_sum_exactly()
    {
        using var root = new TempFolder("neutral-ps");
        RedisProvider.Register();
        await using Cloud cloud = Cloud.Connect(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Storage", "local"), ("Neutral:Local:Root", root.Path), ("Neutral:Local:Workers", "2"),
            ("Neutral:Stores:params:Kind", "redis")));
        ParameterVector<double> vector = await ParameterVector.CreateAsync<double>(cloud.StorageOf("params"), "from-calls", new double[10], shardLength: 3, storeName: "params");

        long[] versions = await cloud.MapAsync(Enumerable.Range(0, 8), _ => Remote.ParameterFunctions.AddOwnIndex(vector.Info, 5));
        ParameterSnapshot<double> final = await vector.ReadAsync();
        Assert.Equal(Enumerable.Repeat(5.0 * Enumerable.Range(1, 8).Sum(), 10), final.Values);
        Assert.Equal(40, final.Version);
        Assert.Equal(40, versions.Max());
        await vector.DeleteAsync();
    }

    [Fact]
    public async Task Bad_input_is_refused_with_what_to_do()
    {
        var notRedis = Assert.Throws<ArgumentException>(() => ParameterVector.Open<double>(new InMemoryObjectStore(), new ParameterVectorInfo("v", 3, 8, null)));
        Assert.Contains("Neutral:Stores", notRedis.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => ParameterVector.CreateAsync<double>(redis.Store, "bad name", new double[3]));
        await Assert.ThrowsAsync<ArgumentException>(() => ParameterVector.CreateAsync<double>(redis.Store, "empty", Array.Empty<double>()));
        await Assert.ThrowsAsync<NotSupportedException>(() => ParameterVector.CreateAsync<int>(redis.Store, "ints", new int[3]));

        ParameterVector<double> missing = ParameterVector.Open<double>(redis.Store, new ParameterVectorInfo("never-made", 3, 8, null));
        var noVector = await Assert.ThrowsAsync<InvalidOperationException>(() => missing.AddAsync(new double[3]));
        Assert.Contains("CreateAsync", noVector.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => missing.ReadAsync());

        ParameterVector<double> vector = await ParameterVector.CreateAsync<double>(redis.Store, "shape", new double[3]);
        await Assert.ThrowsAsync<ArgumentException>(() => vector.AddAsync(new double[4]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => vector.ReadBoundedAsync("w", -1));
        await vector.DeleteAsync();
    }

    /// <summary>Runs the fake clock forward a poll at a time, letting the Redis round trips in between finish; whether <paramref name="task"/> completed.</summary>
    private static async Task<bool> CompletesAsync(Task task, FakeTimeProvider time, int rounds)
    {
        for (int i = 0; i < rounds && !task.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(task, Task.Delay(15));
        }

        return task.IsCompleted;
    }
}
