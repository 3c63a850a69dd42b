using System.Linq;
using System.Threading.Tasks;
using Neutral.Testing;
using ParameterServer;

namespace Neutral.Providers.Redis.Tests;

/// <summary>The ParameterServer sample's asynchronous SGD on local workers, the model on a named Redis store.</summary>
public sealed class ParameterServerSampleTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Theory]
    [InlineData(-1)] // HOGWILD!: no bound
    [InlineData(2)] // stale synchronous parallel
    public async Task Workers_reach_the_accuracy_of_one_process_training_the_same_epochs(int staleness)
    {
        using var root = new TempFolder("neutral-ps-sample");
        RedisProvider.Register();
        await using Cloud cloud = Cloud.Connect(redis.NeutralConfiguration(
            ("Neutral:Compute", "local"), ("Neutral:Storage", "local"), ("Neutral:Local:Root", root.Path), ("Neutral:Local:Workers", "2"),
            ("Neutral:Stores:params:Kind", "redis")));

        var settings = new TrainSettings(Epochs: 2, Batch: 50, LearningRate: 0.5, MaxStaleness: staleness);
        TrainingResult result = await Training.RunAsync(cloud, "params", $"ps-test-{staleness + 1}/", rows: 16_000, dims: 20, shards: 4, heldOutRows: 4_000, settings);

        // 16,000 rows / 4 shards / 50 a batch × 2 epochs: every push counted once, on one model.
        Assert.Equal(640, result.Steps);
        Assert.True(result.SingleAccuracy > 0.85, $"one process reached only {result.SingleAccuracy:P1}: the data set is not learnable as meant");
        Assert.True(result.Accuracy >= 0.97 * result.SingleAccuracy, $"workers {result.Accuracy:P2} against one process {result.SingleAccuracy:P2}");
        Assert.True(result.Loss < 0.69, $"held-out loss {result.Loss} is no better than a coin's (ln 2)");
        Assert.NotEmpty(result.Curve);
        Assert.Contains("<polyline", Training.Svg(result.Curve, result.SingleLoss), System.StringComparison.Ordinal);

        // Nothing left behind: the data shards deleted, the model's keys gone.
        Assert.Empty(await cloud.Storage.ListAsync($"ps-test-{staleness + 1}/").ToListAsync());
    }
}
