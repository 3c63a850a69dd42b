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

    [Theory]
    [InlineData(",ssl=true", "")] // plain text to the TLS port
    [InlineData("sslHost=localhost", "sslHost=redis.example.com")] // the certificate names another host
    public async Task A_client_without_TLS_or_expecting_another_host_fails_at_connect_naming_the_key(string replace, string with)
    {
        RedisProvider.Register();
        string configuration = redis.Configuration.Replace(replace, with, StringComparison.Ordinal) + ",connectTimeout=2000";
        Assert.NotEqual(redis.Configuration + ",connectTimeout=2000", configuration);
        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Redis:Configuration", configuration))));
        Assert.Equal("Neutral:Redis:Configuration", error.Key);
    }
}
