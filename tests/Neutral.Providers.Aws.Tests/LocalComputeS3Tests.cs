using System;
using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.Aws.Tests;

public static class S3Functions
{
    [Remote] public static long Square(int x) => (long)x * x;

    [Remote]
    public static async Task<int> WriteThrough(int x, RemoteContext context)
    {
        await context.Storage.PutAsync($"user/{x}", BitConverter.GetBytes(x), context.CancellationToken);
        return x;
    }
}

/// <summary><c>Compute=local, Storage=s3</c>: the whole protocol against a real S3-compatible server, in worker processes.</summary>
public sealed class LocalComputeS3Tests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private Cloud Connect(params (string Key, string Value)[] extra)
    {
        AwsProvider.Register();
        return Cloud.Connect(bucket.Configuration([("Neutral:Compute", "local"), ("Neutral:Local:Workers", "2"), .. extra]));
    }

    [Fact]
    public async Task A_map_runs_in_worker_processes_against_the_bucket_and_leaves_only_user_data()
    {
        await using (Cloud cloud = Connect())
        {
            long[] squares = await cloud.MapAsync(Enumerable.Range(0, 40), i => Remote.S3Functions.Square(i));
            Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i * i), squares);
            int[] written = await cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.S3Functions.WriteThrough(i));
            Assert.Equal([0, 1, 2, 3, 4], written);
            Assert.Equal(BitConverter.GetBytes(3), await cloud.Storage.GetAsync("user/3"));
        }

        var left = await bucket.Store.ListAsync("").Select(o => o.Key).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => "user/" + i).Order(StringComparer.Ordinal), left.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_DI_way_registers_the_provider_with_AddAws()
    {
        await using ServiceProvider services = new ServiceCollection()
            .AddNeutral(bucket.Configuration(("Neutral:Compute", "local"), ("Neutral:Local:Workers", "1")))
            .AddAws()
            .Services.BuildServiceProvider();
        Cloud cloud = services.GetRequiredService<Cloud>();
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.S3Functions.Square(i)));
    }

    [Theory]
    [InlineData("Neutral:Aws:ServiceUrl", "127.0.0.1:7480", "http or https address")]
    [InlineData("Neutral:Aws:SecretAccessKey", "", "AccessKeyId is set without it")]
    public void A_wrong_setting_fails_at_connect_naming_the_key(string key, string value, string why)
    {
        var configuration = bucket.Configuration(("Neutral:Compute", "local"), (key, value));
        AwsProvider.Register();
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(configuration));
        Assert.Equal(key, error.Key);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(S3Bucket.SecretKey, error.Message, StringComparison.Ordinal);
    }
}
