using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Testing;

namespace Neutral.Providers.Redis.Tests;

public static class RedisFunctions
{
    [Remote] public static long Square(int x) => (long)x * x;

    [Remote]
    public static async Task<long> SlowCube(int x, CancellationToken cancellationToken)
    {
        await Task.Delay(25, cancellationToken);
        return (long)x * x * x;
    }

    [Remote]
    public static async Task<int> WriteThrough(int x, RemoteContext context)
    {
        await context.Storage.PutAsync($"user/{x}", BitConverter.GetBytes(x), context.CancellationToken);
        return x;
    }
}

/// <summary><c>Compute=local, Storage=redis</c>: the whole protocol against a real Redis server, the password reaching workers by their environment only.</summary>
public sealed class LocalComputeRedisStorageTests(RedisPasswordFixture redis) : IClassFixture<RedisPasswordFixture>
{
    private IConfiguration Configuration(params (string Key, string Value)[] extra) =>
        redis.NeutralConfiguration([("Neutral:Compute", "local"), ("Neutral:Local:Workers", "2"), .. extra]);

    /// <summary>As an executable referencing the package would: registered in the default registry, then configuration alone.</summary>
    private static Cloud Connect(IConfiguration configuration)
    {
        RedisProvider.Register();
        return Cloud.Connect(configuration);
    }

    [Fact]
    public async Task A_map_runs_in_worker_processes_with_its_data_in_Redis_and_leaves_nothing_behind()
    {
        await using (Cloud cloud = Connect(Configuration()))
        {
            long[] squares = await cloud.MapAsync(Enumerable.Range(0, 40), i => Remote.RedisFunctions.Square(i));
            Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i * i), squares);

            int[] written = await cloud.MapAsync(Enumerable.Range(0, 4), i => Remote.RedisFunctions.WriteThrough(i));
            Assert.Equal([0, 1, 2, 3], written);
            Assert.Equal(BitConverter.GetBytes(2), await cloud.Storage.GetAsync("user/2"));
            Assert.Equal(BitConverter.GetBytes(2), await redis.Store.GetAsync("user/2"));
        }

        Assert.Empty(await redis.Store.ListAsync("_neutral/jobs/").ToListAsync());
    }

    [Fact]
    public async Task The_location_workers_get_names_the_server_and_key_prefix_but_never_the_password()
    {
        RedisProvider.Register();
        string location = RedisProvider.LocationOf(StackExchange.Redis.ConfigurationOptions.Parse($"{RedisServers.WithPassword},password={RedisServers.Password},ssl=true,defaultDatabase=3"), "app:");
        Assert.DoesNotContain(RedisServers.Password, location, StringComparison.Ordinal);
        var (options, keyPrefix) = RedisProvider.Parse(location);
        Assert.Equal("app:", keyPrefix);
        Assert.True(options.Ssl);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.Null(options.Password);
        Assert.Equal(RedisServers.WithPassword, options.EndPoints.Single().ToString());

        var refused = Assert.Throws<InvalidOperationException>(() => RedisProvider.Parse($"{RedisServers.OneServer},password=secret-3f"));
        Assert.DoesNotContain("secret-3f", refused.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData("Neutral:Redis:Configuration", "", "StackExchange.Redis configuration string")]
    [InlineData("Neutral:Redis:Configuration", "password=only-a-secret-77", "names no server")]
    [InlineData("Neutral:Redis:Configuration", "127.0.0.1:6395,nosuchoption=1,password=only-a-secret-77", "not a StackExchange.Redis configuration string")]
    [InlineData("Neutral:Redis:KeyPrefix", "a{b}", "hash tag")]
    [InlineData("Neutral:Redis:KeyPrefix", "with space", "letters, digits")]
    public void A_wrong_setting_fails_at_connect_naming_the_key_and_hiding_any_password(string key, string value, string why)
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(Configuration((key, value))));
        Assert.Equal(key, error.Key);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("only-a-secret-77", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_fails_ConnectAsync_naming_the_setting()
    {
        RedisProvider.Register();
        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(Configuration(("Neutral:Redis:Password", "wrong-pass-91"))));
        Assert.Equal("Neutral:Redis:Configuration", error.Key);
        Assert.Contains("Neutral:Redis:Password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass-91", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_fails_ConnectAsync_naming_the_key()
    {
        RedisProvider.Register();
        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(Configuration(("Neutral:Redis:Configuration", "127.0.0.1:1,connectTimeout=500"))));
        Assert.Equal("Neutral:Redis:Configuration", error.Key);
        Assert.Contains("could not be used", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_key_in_the_Redis_section_is_caught()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(Configuration(("Neutral:Redis:Configuratoin", "x"))));
        Assert.Equal("Neutral:Redis:Configuratoin", error.Key);
        Assert.Contains("Neutral:Redis:Configuration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddRedis_registers_the_store_for_dependency_injection()
    {
        var services = new ServiceCollection();
        services.AddNeutral(Configuration()).AddRedis();
        await using ServiceProvider provider = services.BuildServiceProvider();
        Cloud cloud = provider.GetRequiredService<Cloud>();
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.RedisFunctions.Square(i)));
    }
}

/// <summary>A job on the restartable server survives the server restarting in the middle (its append-only file kept).</summary>
public sealed class RedisRestartTests(RedisRestartableFixture redis) : IClassFixture<RedisRestartableFixture>
{
    [Fact]
    public async Task A_job_survives_Redis_restarting_in_the_middle_with_one_status_per_call()
    {
        RedisProvider.Register();
        await using Cloud cloud = Cloud.Connect(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Local:Workers", "4"), ("Neutral:Job:KeepData", "true"), ("Neutral:Job:Retries", "5")));
        const int Calls = 200;
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.RedisFunctions.SlowCube(i)));
        await FakeClockDriver.WaitForAsync(() => job.Futures.Count(f => f.State == RemoteCallState.Succeeded) >= 20, "20 calls to succeed");

        int doneBefore = job.Futures.Count(f => f.State == RemoteCallState.Succeeded);
        TestServers.RestartRedis();

        long[] cubes = await job.GetResultsAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(Enumerable.Range(0, Calls).Select(i => (long)i * i * i), cubes);
        Assert.True(doneBefore < Calls, "the job ended before the restart: the test did not test a restart");

        var statuses = (await redis.Store.ListAsync($"_neutral/jobs/{job.JobId}/").ToListAsync()).Select(o => o.Key).Where(k => k.EndsWith("/status", StringComparison.Ordinal)).ToList();
        Assert.Equal(Calls, statuses.Count);
    }
}
