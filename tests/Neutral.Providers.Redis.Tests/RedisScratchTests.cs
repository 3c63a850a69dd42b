using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Tests.Shared;
using WordCount;

namespace Neutral.Providers.Redis.Tests;

/// <summary>
/// The paper's layout: the job's data in one store, the shuffle's on Redis (<c>Neutral:Stores:scratch:Kind=redis</c>),
/// the password reaching worker processes by their environment only.
/// </summary>
public sealed class RedisScratchTests(RedisPasswordFixture redis) : IClassFixture<RedisPasswordFixture>
{
    [Fact]
    public async Task Word_count_keeps_its_shuffle_on_Redis_and_is_exact()
    {
        using var root = new TempFolder("neutral-scratch");
        RedisProvider.Register();
        await using Cloud cloud = await Cloud.ConnectAsync(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Storage", "local"), ("Neutral:Local:Root", root.Path), ("Neutral:Local:Workers", "2"),
            ("Neutral:Job:KeepData", "true"), ("Neutral:Stores:scratch:Kind", "redis")));

        WordCountCheck.Run run = await WordCountCheck.RunAsync(cloud, "wc/input/", [200_000, 150_000], chunkBytes: 32 * 1024, partitions: 3, scratch: "scratch");
        WordCountCheck.AssertExact(run);

        // Kept (Job:KeepData): one map output per map call at least, all on Redis, none in the job's store.
        var onRedis = await redis.Store.ListAsync("_neutral/shuffles/").ToListAsync();
        Assert.True(onRedis.Count >= run.MapCalls, $"{onRedis.Count} objects on Redis for {run.MapCalls} map calls");
        Assert.False(System.IO.Directory.Exists(System.IO.Path.Combine(root.Path, "_neutral", "shuffles")));
        Assert.Equal(onRedis.Count, await cloud.DeleteShuffleAsync(run.Shuffle));
        Assert.Empty(await redis.Store.ListAsync("_neutral/shuffles/").ToListAsync());

        // The client reaches the same store by name, in the same user key space calls see.
        await cloud.StorageOf("scratch").PutAsync("by-name", "x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), await redis.Store.GetAsync("by-name"));
    }

    [Fact]
    public void A_named_store_whose_kind_is_not_referenced_or_that_has_settings_of_its_own_fails_at_connect()
    {
        RedisProvider.Register();
        var missing = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(redis.NeutralConfiguration(
            ("Neutral:Storage", "local"), ("Neutral:Stores:scratch:Kind", "s3"))));
        Assert.Equal("Neutral:Stores:scratch:Kind", missing.Key);
        Assert.Contains("Neutral.Providers.Aws", missing.Message, StringComparison.Ordinal);

        var own = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(redis.NeutralConfiguration(
            ("Neutral:Storage", "local"), ("Neutral:Stores:scratch:Kind", "redis"), ("Neutral:Stores:scratch:Configuration", "elsewhere:6379"))));
        Assert.Equal("Neutral:Stores:scratch:Configuration", own.Key);
        Assert.Contains("Neutral:Redis", own.Message, StringComparison.Ordinal);
    }
}

/// <summary>The Sort sample's TeraSort with its intermediate data on Redis.</summary>
public sealed class RedisSortTests(RedisPasswordFixture redis) : IClassFixture<RedisPasswordFixture>
{
    [Fact]
    public async Task TeraSort_with_its_shuffle_on_Redis_is_sorted_and_a_permutation_of_its_input()
    {
        using var root = new TempFolder("neutral-sort");
        RedisProvider.Register();
        await using Cloud cloud = await Cloud.ConnectAsync(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Storage", "local"), ("Neutral:Local:Root", root.Path), ("Neutral:Local:Workers", "2"),
            ("Neutral:Stores:scratch:Kind", "redis")));
        Sort.SortRun run = await Sort.SortRun.RunAsync(cloud, "sort/", records: 20_000, parts: 4, partitions: 4, scratch: "scratch");
        Assert.True(run.Valid, $"{run.Unordered} out of order; input {run.Input}, output {run.Output}");
        Assert.Equal(20_000, run.Output.Records);
        Assert.Empty(await redis.Store.ListAsync("_neutral/shuffles/").ToListAsync());
    }
}
