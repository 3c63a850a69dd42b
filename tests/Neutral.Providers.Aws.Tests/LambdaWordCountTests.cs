using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Providers.Redis;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Tests.Shared;
using WordCount;

namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// The paper's word count as the paper ran it: input and output on S3 (Ceph RGW), the shuffle on Redis, the calls in
/// Lambda sandboxes (the emulator running the real bootstrap), which open the Redis store from the envelope's location.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class LambdaWordCountTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private static readonly string Redis = Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS") ?? "127.0.0.1:6390";
    private readonly TempFolder _function = new("neutral-function");
    private readonly string _keyPrefix = "wc" + Guid.NewGuid().ToString("N")[..8] + ":";
    private LambdaService _lambda = null!;

    public async Task InitializeAsync()
    {
        _lambda = new LambdaService(TestFunction.Bootstrap(_function.Path), TestFunction.Environment(TestFunction.Assemblies + ";Neutral.Providers.Redis"), S3Bucket.AccessKey, sandboxes: 2);
        await TestFunction.PublishTablesAsync(bucket.Store);
    }

    public async Task DisposeAsync()
    {
        await _lambda.DisposeAsync();
        _function.Dispose();
    }

    /// <summary>Lambda compute, the job's store on RGW, and a Redis store named <paramref name="redisStore"/>.</summary>
    private Task<Cloud> ConnectAsync(string redisStore)
    {
        AwsProvider.Register();
        RedisProvider.Register();
        return Cloud.ConnectAsync(bucket.Configuration([
            ("Neutral:Compute", "aws"),
            ("Neutral:Aws:LambdaServiceUrl", _lambda.Endpoint.ToString()),
            ($"Neutral:Stores:{redisStore}:Kind", "redis"),
            ("Neutral:Redis:Configuration", Redis),
            ("Neutral:Redis:KeyPrefix", _keyPrefix)]));
    }

    [Fact]
    public async Task Word_count_on_Lambda_with_its_shuffle_on_Redis_is_exact()
    {
        await using Cloud cloud = await ConnectAsync(redisStore: "scratch");

        int before = _lambda.Invocations;
        WordCountCheck.Run run = await WordCountCheck.RunAsync(cloud, "wc/input/", [120_000, 80_000], chunkBytes: 32 * 1024, partitions: 3, scratch: "scratch");
        WordCountCheck.AssertExact(run);
        // Every call ran in a sandbox: the corpus's writers, the maps and the reducers (a backup attempt may add one).
        Assert.True(_lambda.Invocations - before >= 2 + run.MapCalls + 3, $"{_lambda.Invocations - before} invocations for 2 writers, {run.MapCalls} map and 3 reduce calls");
        Assert.Empty(await cloud.StorageOf("scratch").ListAsync("").ToListAsync());
        Assert.DoesNotContain(await bucket.Store.ListAsync("_neutral/").ToListAsync(), o => o.Key.StartsWith("_neutral/shuffles/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_parameter_server_sample_trains_on_Lambda_with_its_model_on_Redis()
    {
        await using Cloud cloud = await ConnectAsync(redisStore: "params");

        var settings = new ParameterServer.TrainSettings(Epochs: 2, Batch: 50, LearningRate: 0.5, MaxStaleness: 1);
        ParameterServer.TrainingResult result = await ParameterServer.Training.RunAsync(cloud, "params", "ps-lambda/", rows: 8_000, dims: 20, shards: 2, heldOutRows: 2_000, settings);
        Assert.Equal(320, result.Steps);
        Assert.True(result.Accuracy >= 0.97 * result.SingleAccuracy, $"workers {result.Accuracy:P2} against one process {result.SingleAccuracy:P2}");
        Assert.Empty(await cloud.StorageOf("params").ListAsync("").ToListAsync());
    }
}
