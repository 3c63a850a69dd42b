using System;
using System.Buffers.Binary;
using System.Threading.Tasks;
using Neutral;
using Neutral.Providers.Redis;

namespace ParameterServer;

/// <summary>How the workers train: the same settings the single-process baseline uses.</summary>
/// <param name="Epochs">Passes over each worker's shard.</param>
/// <param name="Batch">Rows per mini-batch (one pull and one push each).</param>
/// <param name="LearningRate">The step size.</param>
/// <param name="MaxStaleness">How many pushes a worker may run ahead of the slowest (stale synchronous parallel), or -1 for none (HOGWILD!).</param>
public sealed record TrainSettings(int Epochs, int Batch, double LearningRate, int MaxStaleness);

/// <summary>What a worker did.</summary>
/// <param name="Steps">Mini-batches pushed.</param>
/// <param name="LastVersion">The model's version after its last push.</param>
public sealed record TrainReport(long Steps, long LastVersion);

/// <summary>
/// HOGWILD!-style asynchronous SGD for logistic regression: each worker pulls the model from the parameter server,
/// computes a mini-batch gradient on its shard of the data and pushes the step, with no lock among workers.
/// </summary>
public static class Sgd
{
    /// <summary>Writes shard <paramref name="shard"/> of the data set (<paramref name="rows"/> rows of <paramref name="dims"/> features) to <paramref name="key"/>.</summary>
    [Remote]
    public static async Task<long> WriteShard(string key, int shard, int rows, int dims, RemoteContext context)
    {
        byte[] data = Data.Shard(shard, rows, dims);
        await context.Storage.PutAsync(key, data, context.CancellationToken);
        return rows;
    }

    /// <summary>Trains on the shard at <paramref name="key"/>: every mini-batch pulls the model and pushes its step.</summary>
    [Remote]
    public static async Task<TrainReport> Train(string key, int dims, ParameterVectorInfo model, TrainSettings settings, RemoteContext context)
    {
        byte[] data = await context.Storage.GetAsync(key, context.CancellationToken) ?? throw new InvalidOperationException($"No data shard '{key}'.");
        ParameterVector<double> parameters = ParameterVector.Open<double>(context, model);
        string me = $"w{context.CallIndex}";
        int rows = data.Length / Data.RowBytes(dims);
        var gradient = new double[dims + 1];
        long steps = 0, version = 0;
        try
        {
            for (int epoch = 0; epoch < settings.Epochs; epoch++)
            {
                for (int start = 0; start < rows; start += settings.Batch)
                {
                    ParameterSnapshot<double> now = settings.MaxStaleness < 0
                        ? await parameters.ReadAsync(context.CancellationToken)
                        : await parameters.ReadBoundedAsync(me, settings.MaxStaleness, context.CancellationToken);
                    int count = Math.Min(settings.Batch, rows - start);
                    Step(now.Values, data, dims, start, count, settings.LearningRate, gradient);
                    version = await parameters.AddAsync(gradient, settings.MaxStaleness < 0 ? null : me, context.CancellationToken);
                    steps++;
                }
            }
        }
        finally
        {
            if (settings.MaxStaleness >= 0)
            {
                await parameters.LeaveAsync(me, context.CancellationToken);
            }
        }

        return new TrainReport(steps, version);
    }

    /// <summary>
    /// One mini-batch: into <paramref name="step"/> goes minus the learning rate times the mean gradient of the logistic
    /// loss over rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> (the last weight is the bias).
    /// </summary>
    public static void Step(ReadOnlySpan<double> weights, ReadOnlySpan<byte> data, int dims, int start, int count, double learningRate, Span<double> step)
    {
        step.Clear();
        Span<float> x = stackalloc float[dims];
        for (int r = start; r < start + count; r++)
        {
            float label = Data.Row(data, dims, r, x);
            double error = Sigmoid(Dot(weights, x)) - label;
            for (int d = 0; d < dims; d++)
            {
                step[d] += error * x[d];
            }

            step[dims] += error;
        }

        double scale = -learningRate / count;
        for (int d = 0; d <= dims; d++)
        {
            step[d] *= scale;
        }
    }

    /// <summary>The mean logistic loss and the accuracy of <paramref name="weights"/> on <paramref name="data"/>.</summary>
    public static (double Loss, double Accuracy) Evaluate(ReadOnlySpan<double> weights, ReadOnlySpan<byte> data, int dims)
    {
        int rows = data.Length / Data.RowBytes(dims);
        Span<float> x = stackalloc float[dims];
        double loss = 0;
        int right = 0;
        for (int r = 0; r < rows; r++)
        {
            float label = Data.Row(data, dims, r, x);
            double p = Sigmoid(Dot(weights, x));
            loss -= label > 0.5f ? Math.Log(Math.Max(p, 1e-12)) : Math.Log(Math.Max(1 - p, 1e-12));
            right += (p >= 0.5) == (label > 0.5f) ? 1 : 0;
        }

        return (loss / rows, (double)right / rows);
    }

    /// <summary>The same SGD in one process, shard after shard, for comparison: the model after <paramref name="settings"/>' epochs.</summary>
    public static double[] SingleProcess(byte[][] shards, int dims, TrainSettings settings)
    {
        var weights = new double[dims + 1];
        var step = new double[dims + 1];
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            foreach (byte[] shard in shards)
            {
                int rows = shard.Length / Data.RowBytes(dims);
                for (int start = 0; start < rows; start += settings.Batch)
                {
                    Step(weights, shard, dims, start, Math.Min(settings.Batch, rows - start), settings.LearningRate, step);
                    for (int d = 0; d <= dims; d++)
                    {
                        weights[d] += step[d];
                    }
                }
            }
        }

        return weights;
    }

    private static double Dot(ReadOnlySpan<double> weights, ReadOnlySpan<float> x)
    {
        double sum = weights[x.Length];
        for (int d = 0; d < x.Length; d++)
        {
            sum += weights[d] * x[d];
        }

        return sum;
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}

/// <summary>
/// A deterministic data set: features from a standard normal, labels from a fixed hidden hyperplane plus noise, so
/// the classes are linearly separable but for the noise (the best possible accuracy is below 1).
/// </summary>
public static class Data
{
    /// <summary>Bytes per row: the features, then the label, each a little-endian float.</summary>
    public static int RowBytes(int dims) => (dims + 1) * sizeof(float);

    /// <summary>Rows of shard <paramref name="shard"/> (held-out data: a negative shard), the same on every machine.</summary>
    public static byte[] Shard(int shard, int rows, int dims)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1);
        double[] hidden = Hidden(dims);
        var random = new Random(unchecked((int)(0x5DEECE66Du * (uint)(shard + 1_000_003))));
        byte[] data = new byte[(long)rows * RowBytes(dims)];
        for (int r = 0; r < rows; r++)
        {
            Span<byte> row = data.AsSpan(r * RowBytes(dims), RowBytes(dims));
            double score = hidden[dims];
            for (int d = 0; d < dims; d++)
            {
                float x = (float)Normal(random);
                BinaryPrimitives.WriteSingleLittleEndian(row[(d * sizeof(float))..], x);
                score += hidden[d] * x;
            }

            float label = score + (0.5 * Normal(random)) > 0 ? 1f : 0f;
            BinaryPrimitives.WriteSingleLittleEndian(row[(dims * sizeof(float))..], label);
        }

        return data;
    }

    /// <summary>Reads row <paramref name="r"/>'s features into <paramref name="x"/> and returns its label.</summary>
    public static float Row(ReadOnlySpan<byte> data, int dims, int r, Span<float> x)
    {
        ReadOnlySpan<byte> row = data.Slice(r * RowBytes(dims), RowBytes(dims));
        for (int d = 0; d < dims; d++)
        {
            x[d] = BinaryPrimitives.ReadSingleLittleEndian(row[(d * sizeof(float))..]);
        }

        return BinaryPrimitives.ReadSingleLittleEndian(row[(dims * sizeof(float))..]);
    }

    /// <summary>The hidden hyperplane (weights, then the bias), scaled so that the score's spread is about 3.</summary>
    private static double[] Hidden(int dims)
    {
        var random = new Random(12_345);
        var w = new double[dims + 1];
        for (int d = 0; d < dims; d++)
        {
            w[d] = Normal(random) * 3 / Math.Sqrt(dims);
        }

        w[dims] = 0.2;
        return w;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
