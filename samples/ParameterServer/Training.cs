using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral;
using Neutral.Providers.Redis;
using Neutral.Storage;

namespace ParameterServer;

/// <summary>One point of the loss curve: seconds since training began, the model's version, held-out loss and accuracy.</summary>
public sealed record LossPoint(double Seconds, long Version, double Loss, double Accuracy);

/// <summary>What a training run gave, against the same SGD in one process.</summary>
public sealed record TrainingResult(IReadOnlyList<LossPoint> Curve, double Loss, double Accuracy, double Seconds, long Steps,
    double SingleLoss, double SingleAccuracy, double SingleSeconds);

/// <summary>The client's side: data into the store, a model on the parameter server, workers training, the loss sampled meanwhile.</summary>
public static class Training
{
    /// <summary>Runs the whole sample on <paramref name="cloud"/>, the model in the Redis store named <paramref name="store"/>.</summary>
    public static async Task<TrainingResult> RunAsync(Cloud cloud, string store, string prefix, int rows, int dims, int shards, int heldOutRows,
        TrainSettings settings, Action<LossPoint>? progress = null, TimeSpan? sampleEvery = null, CancellationToken cancellationToken = default)
    {
        int perShard = rows / shards;
        await cloud.MapAsync(Enumerable.Range(0, shards), s => Remote.Sgd.WriteShard($"{prefix}shard-{s:D4}", s, perShard, dims), cancellationToken);
        byte[] heldOut = Data.Shard(-1, heldOutRows, dims);

        ParameterVector<double> model = await ParameterVector.CreateAsync<double>(cloud.StorageOf(store), prefix.Replace('/', '.').Trim('.') + ".weights",
            new double[dims + 1], storeName: store, cancellationToken: cancellationToken);
        var curve = new List<LossPoint>();
        var watch = Stopwatch.StartNew();
        try
        {
            RemoteJob<TrainReport> job = cloud.Submit(Enumerable.Range(0, shards).Select(s => Remote.Sgd.Train($"{prefix}shard-{s:D4}", dims, model.Info, settings)));
            Task<TrainReport[]> done = job.GetResultsAsync(cancellationToken);
            while (!done.IsCompleted)
            {
                await Task.WhenAny(done, Task.Delay(sampleEvery ?? TimeSpan.FromMilliseconds(250), cancellationToken));
                ParameterSnapshot<double> now = await model.ReadAsync(cancellationToken);
                var (loss, accuracy) = Sgd.Evaluate(now.Values, heldOut, dims);
                var point = new LossPoint(watch.Elapsed.TotalSeconds, now.Version, loss, accuracy);
                curve.Add(point);
                progress?.Invoke(point);
            }

            TrainReport[] reports = await done;
            double seconds = watch.Elapsed.TotalSeconds;
            ParameterSnapshot<double> final = await model.ReadAsync(cancellationToken);
            var (finalLoss, finalAccuracy) = Sgd.Evaluate(final.Values, heldOut, dims);

            // The same SGD, same settings and data, in this one process.
            byte[][] data = await Task.WhenAll(Enumerable.Range(0, shards).Select(async s => (await cloud.Storage.GetAsync($"{prefix}shard-{s:D4}", cancellationToken))!));
            watch.Restart();
            double[] single = Sgd.SingleProcess(data, dims, settings);
            double singleSeconds = watch.Elapsed.TotalSeconds;
            var (singleLoss, singleAccuracy) = Sgd.Evaluate(single, heldOut, dims);
            return new TrainingResult(curve, finalLoss, finalAccuracy, seconds, reports.Sum(r => r.Steps), singleLoss, singleAccuracy, singleSeconds);
        }
        finally
        {
            await model.DeleteAsync(CancellationToken.None);
            await cloud.Storage.DeletePrefixAsync(prefix, CancellationToken.None);
        }
    }

    /// <summary>The loss curve as a small SVG line chart (seconds across, held-out loss up).</summary>
    public static string Svg(IReadOnlyList<LossPoint> curve, double singleLoss)
    {
        const double Width = 640, Height = 360, Margin = 40;
        double maxT = Math.Max(curve.Count == 0 ? 1 : curve[^1].Seconds, 1e-3);
        double maxL = Math.Max(curve.Count == 0 ? 1 : curve.Max(p => p.Loss), singleLoss) * 1.05;
        string X(double t) => (Margin + (t / maxT * (Width - (2 * Margin)))).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        string Y(double l) => (Height - Margin - (l / maxL * (Height - (2 * Margin)))).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        string points = string.Join(" ", curve.Select(p => $"{X(p.Seconds)},{Y(p.Loss)}"));
        return $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" font-family="sans-serif" font-size="12">
              <rect width="100%" height="100%" fill="white"/>
              <line x1="{Margin}" y1="{Height - Margin}" x2="{Width - Margin}" y2="{Height - Margin}" stroke="black"/>
              <line x1="{Margin}" y1="{Margin}" x2="{Margin}" y2="{Height - Margin}" stroke="black"/>
              <line x1="{Margin}" y1="{Y(singleLoss)}" x2="{Width - Margin}" y2="{Y(singleLoss)}" stroke="gray" stroke-dasharray="4 4"/>
              <text x="{Width - Margin}" y="{Y(singleLoss)}" dy="-4" text-anchor="end" fill="gray">one process, same epochs</text>
              <polyline fill="none" stroke="steelblue" stroke-width="2" points="{points}"/>
              <text x="{Width / 2}" y="{Height - 8}" text-anchor="middle">seconds ({maxT:0.0} in all)</text>
              <text x="12" y="{Height / 2}" transform="rotate(-90 12 {Height / 2})" text-anchor="middle">held-out log loss</text>
            </svg>
            """;
    }
}
