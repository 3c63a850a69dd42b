using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Neutral;
using Neutral.Storage;

namespace Featurize;

/// <summary>One run's phases (seconds) and accuracies, as the paper's Table 2 reports them.</summary>
public sealed record FeaturizeResult(int Images, int TrainImages, double Generate, double Featurize, double Gather, double Train,
    double TrainAccuracy, double TestAccuracy);

/// <summary>The client: images into the store, a map that featurizes them, the features gathered, one classifier fitted here.</summary>
public static class FeaturizeRun
{
    /// <summary>Makes <paramref name="images"/> images in batches of <paramref name="batch"/>, featurizes them, and fits and tests a linear classifier.</summary>
    /// <param name="cloud">Where the map runs.</param>
    /// <param name="prefix">Where the image batches go (deleted at the end).</param>
    /// <param name="images">How many images; the last sixth are the test set.</param>
    /// <param name="batch">Images per object and per map call.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<FeaturizeResult> RunAsync(Cloud cloud, string prefix, int images, int batch, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(images, 60);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        int batches = (images + batch - 1) / batch;
        var watch = Stopwatch.StartNew();
        await cloud.MapAsync(Enumerable.Range(0, batches), b => Remote.Images.WriteBatch($"{prefix}batch-{b:D5}", b * batch, Math.Min(batch, images - (b * batch))), cancellationToken);
        double generate = watch.Elapsed.TotalSeconds;
        try
        {
            watch.Restart();
            FeatureBatch[] featurized = await cloud.MapAsync(Enumerable.Range(0, batches), b => Remote.Images.FeaturizeBatch($"{prefix}batch-{b:D5}"), cancellationToken);
            double featurize = watch.Elapsed.TotalSeconds;

            // The monolithic reduce: every image's features, in the client, in image order.
            watch.Restart();
            Example[] examples = featurized.SelectMany(f => Enumerable.Range(0, f.Labels.Length).Select(i => new Example
            {
                Features = f.Features.AsSpan(i * f.Dims, f.Dims).ToArray(),
                Label = (uint)f.Labels[i],
            })).ToArray();
            double gather = watch.Elapsed.TotalSeconds;

            int trainCount = images - (images / 6);
            watch.Restart();
            var ml = new MLContext(seed: 1);
            IDataView train = ml.Data.LoadFromEnumerable(examples.Take(trainCount));
            IDataView test = ml.Data.LoadFromEnumerable(examples.Skip(trainCount));
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Key", nameof(Example.Label))
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Key", nameof(Example.Features), maximumNumberOfIterations: 30));
            var model = pipeline.Fit(train);
            double training = watch.Elapsed.TotalSeconds;
            double trainAccuracy = ml.MulticlassClassification.Evaluate(model.Transform(train), "Key").MicroAccuracy;
            double testAccuracy = ml.MulticlassClassification.Evaluate(model.Transform(test), "Key").MicroAccuracy;
            return new FeaturizeResult(images, trainCount, generate, featurize, gather, training, trainAccuracy, testAccuracy);
        }
        finally
        {
            await cloud.Storage.DeletePrefixAsync(prefix, CancellationToken.None);
        }
    }

    /// <summary>One image for ML.NET: its features and its class.</summary>
    public sealed class Example
    {
        /// <summary>The image's descriptor.</summary>
        [VectorType(Hog.Dims)]
        public float[] Features { get; set; } = [];

        /// <summary>The image's class.</summary>
        public uint Label { get; set; }
    }
}
