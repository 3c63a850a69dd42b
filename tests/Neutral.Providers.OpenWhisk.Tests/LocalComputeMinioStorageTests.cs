using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.OpenWhisk.Tests;

public static class MinioFunctions
{
    [Remote] public static long Square(int x) => (long)x * x;

    [Remote] public static int Fail(int x) => x == 3 ? throw new InvalidOperationException("three") : x;

    /// <summary>Fails when the process has a PATH or HOME: an OpenWhisk action starts with neither.</summary>
    [Remote]
    public static int NoPathOrHome() =>
        Environment.GetEnvironmentVariable("PATH") is null && Environment.GetEnvironmentVariable("HOME") is null
            ? Environment.ProcessId
            : throw new InvalidOperationException("PATH or HOME is set");

    [Remote]
    public static async Task<int> WriteThrough(int x, RemoteContext context)
    {
        await context.Storage.PutAsync($"user/{x}", BitConverter.GetBytes(x), context.CancellationToken);
        return x;
    }
}

/// <summary><c>Compute=local, Storage=minio</c>: the whole protocol against a real S3-compatible server.</summary>
public sealed class LocalComputeMinioStorageTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private IConfiguration Configuration(params (string Key, string Value)[] extra) =>
        bucket.Configuration([("Neutral:Compute", "local"), ("Neutral:Local:Workers", "2"), .. extra]);

    /// <summary>As an executable referencing the package would: registered in the default registry, then configuration alone.</summary>
    private static Cloud Connect(IConfiguration configuration)
    {
        OpenWhiskProvider.Register();
        return Cloud.Connect(configuration);
    }

    [Fact]
    public async Task A_map_runs_in_worker_processes_with_its_data_in_the_bucket_and_leaves_nothing_behind()
    {
        await using (Cloud cloud = Connect(Configuration()))
        {
            long[] squares = await cloud.MapAsync(Enumerable.Range(0, 40), i => Remote.MinioFunctions.Square(i));
            Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i * i), squares);

            // Workers write to the user's key space of the same bucket.
            int[] written = await cloud.MapAsync(Enumerable.Range(0, 4), i => Remote.MinioFunctions.WriteThrough(i));
            Assert.Equal([0, 1, 2, 3], written);
            Assert.Equal(BitConverter.GetBytes(2), await cloud.Storage.GetAsync("user/2"));
            Assert.Equal(BitConverter.GetBytes(2), await bucket.Store.GetAsync("user/2"));

            var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.MinioFunctions.Fail(i)));
            RemoteException failure = Assert.Single(error.Failures);
            Assert.Equal(3, failure.CallIndex);
            Assert.Equal("three", failure.Message);
        }

        // The jobs' data was deleted once their results were read.
        Assert.Empty(await ToListAsync(bucket.Store.ListAsync("_neutral/jobs/")));
    }

    [Theory]
    [InlineData("Neutral:Minio:Endpoint", "http://127.0.0.1:7480", "host and port only")]
    [InlineData("Neutral:Minio:Secure", "perhaps", "true or false")]
    [InlineData("Neutral:Minio:SecretKey", "", "NEUTRAL__MINIO__SECRETKEY")]
    public void A_wrong_setting_fails_at_connect_naming_the_key(string key, string value, string why)
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(Configuration((key, value))));
        Assert.Equal(key, error.Key);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_missing_required_key_is_named_in_one_error()
    {
        // Nothing but the store's kind: the endpoint, the bucket and both keys are missing, and one error says so.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Neutral:Compute", "local"), new("Neutral:Storage", "minio")]).Build();
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(configuration));
        Assert.Equal("Neutral:Minio:Endpoint", error.Key);
        Assert.Contains("4 required settings are missing; set them all:", error.Message, StringComparison.Ordinal);
        foreach (string key in new[] { "Endpoint", "Bucket", "AccessKey", "SecretKey" })
        {
            Assert.Contains($"[Neutral:Minio:{key}]", error.Message, StringComparison.Ordinal);
        }

        Assert.Contains("NEUTRAL__MINIO__SECRETKEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_store_leaves_Connect_alone_fails_ConnectAsync_naming_the_key_and_fails_jobs_with_it()
    {
        // Connect does no network I/O: the bucket check runs in the background and the store's first use waits for it.
        await using (Cloud cloud = Connect(Configuration(("Neutral:Minio:Endpoint", "127.0.0.1:1"))))
        {
            var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.MinioFunctions.Square(i)));
            Assert.Equal(2, error.Failures.Count);
            Assert.All(error.Failures, f => Assert.Contains("could not be used for bucket", f.Message, StringComparison.Ordinal));
        }

        OpenWhiskProvider.Register();
        var refused = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(Configuration(("Neutral:Minio:Endpoint", "127.0.0.1:1"))));
        Assert.Equal("Neutral:Minio:Endpoint", refused.Key);
        Assert.Contains("could not be used", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_key_in_the_Minio_section_is_caught()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(Configuration(("Neutral:Minio:Buckett", "x"))));
        Assert.Equal("Neutral:Minio:Buckett", error.Key);
        Assert.Contains("Neutral:Minio:Bucket", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<ObjectInfo>> ToListAsync(IAsyncEnumerable<ObjectInfo> items)
    {
        var list = new List<ObjectInfo>();
        await foreach (ObjectInfo item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
