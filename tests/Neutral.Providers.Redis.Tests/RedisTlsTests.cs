using System;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Testing;
using StackExchange.Redis;

namespace Neutral.Providers.Redis.Tests;

/// <summary>The store contract over TLS.</summary>
public sealed class RedisTlsStoreContractTests(RedisTlsFixture redis) : ObjectStoreContract, IClassFixture<RedisTlsFixture>
{
    protected override IObjectStore Store => redis.Store;
}

/// <summary>TLS from configuration to workers: the location carries <c>ssl=true</c>, and a server that is not what it claims is refused.</summary>
public sealed class RedisTlsTests(RedisTlsFixture redis) : IClassFixture<RedisTlsFixture>
{
    [Fact]
    public async Task Local_workers_reach_the_TLS_server_by_the_location_alone()
    {
        RedisProvider.Register();
        await using (Cloud cloud = Cloud.Connect(redis.NeutralConfiguration(("Neutral:Compute", "local"), ("Neutral:Local:Workers", "2"))))
        {
            int[] written = await cloud.MapAsync(Enumerable.Range(0, 6), i => Remote.RedisFunctions.WriteThrough(i));
            Assert.Equal([0, 1, 2, 3, 4, 5], written);
            Assert.Equal(BitConverter.GetBytes(5), await redis.Store.GetAsync("user/5"));
        }

        Assert.Contains("ssl=True", RedisProvider.LocationOf(ConfigurationOptions.Parse(redis.Configuration), redis.KeyPrefix), StringComparison.OrdinalIgnoreCase);
        await redis.Store.DeletePrefixAsync("user/");
    }

    [Fact]
    public async Task Plain_text_to_the_TLS_port_fails_at_connect_naming_the_key()
    {
        RedisProvider.Register();
        string plain = redis.Configuration.Replace(",ssl=true", "", StringComparison.Ordinal) + ",connectTimeout=2000";
        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Redis:Configuration", plain))));
        Assert.Equal("Neutral:Redis:Configuration", error.Key);
    }

    [Fact]
    public async Task A_certificate_for_another_host_is_refused()
    {
        RedisProvider.Register();
        string otherHost = redis.Configuration.Replace("sslHost=localhost", "sslHost=redis.example.com", StringComparison.Ordinal) + ",connectTimeout=2000";
        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Redis:Configuration", otherHost))));
        Assert.Equal("Neutral:Redis:Configuration", error.Key);
    }
}
