using System;
using System.Threading.Tasks;
using Neutral;

namespace Featurize;

/// <summary>A batch of images' features, flattened row by row, and their labels.</summary>
/// <param name="Features">Image after image, <paramref name="Dims"/> values each.</param>
/// <param name="Labels">Each image's class, 0 to 9.</param>
/// <param name="Dims">Features per image.</param>
public sealed record FeatureBatch(float[] Features, int[] Labels, int Dims);

/// <summary>
/// The paper's ImageNet pattern at a size that runs here: labelled images made up deterministically, featurized in
/// parallel (histograms of oriented gradients), then gathered by the client for one linear classifier.
/// </summary>
public static class Images
{
    /// <summary>Side of an image, in pixels.</summary>
    public const int Size = 28;

    /// <summary>The classes: what <see cref="Draw"/> draws for each label.</summary>
    public static readonly string[] Classes = ["disc", "square", "triangle", "plus", "horizontal bar", "vertical bar", "diagonal", "ring", "cross", "two dots"];

    /// <summary>Bytes per image in a batch object: the label, then the pixels.</summary>
    public const int RecordBytes = 1 + (Size * Size);

    /// <summary>Writes images <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> to <paramref name="key"/>.</summary>
    [Remote]
    public static async Task<int> WriteBatch(string key, int first, int count, RemoteContext context)
    {
        byte[] data = new byte[count * RecordBytes];
        for (int i = 0; i < count; i++)
        {
            int label = Draw(first + i, data.AsSpan((i * RecordBytes) + 1, Size * Size));
            data[i * RecordBytes] = (byte)label;
        }

        await context.Storage.PutAsync(key, data, context.CancellationToken);
        return count;
    }

    /// <summary>The map: the features of every image of the batch at <paramref name="key"/>.</summary>
    [Remote]
    public static async Task<FeatureBatch> FeaturizeBatch(string key, RemoteContext context)
    {
        byte[] data = await context.Storage.GetAsync(key, context.CancellationToken) ?? throw new InvalidOperationException($"No image batch '{key}'.");
        int count = data.Length / RecordBytes;
        float[] features = new float[count * Hog.Dims];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = data[i * RecordBytes];
            Hog.Describe(data.AsSpan((i * RecordBytes) + 1, Size * Size), features.AsSpan(i * Hog.Dims, Hog.Dims));
        }

        return new FeatureBatch(features, labels, Hog.Dims);
    }

    /// <summary>Draws image <paramref name="index"/> (grey levels, 0 background) and returns its class; the same on every machine.</summary>
    public static int Draw(int index, Span<byte> pixels)
    {
        var random = new Random(unchecked((int)(2_654_435_761u * (uint)(index + 1))));
        int label = random.Next(Classes.Length);
        double cx = 14 + random.Next(-4, 5), cy = 14 + random.Next(-4, 5), r = 5 + (random.NextDouble() * 4);
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                double dx = x - cx, dy = y - cy, d = Math.Sqrt((dx * dx) + (dy * dy));
                bool on = label switch
                {
                    0 => d <= r,
                    1 => Math.Abs(dx) <= r * 0.8 && Math.Abs(dy) <= r * 0.8,
                    2 => dy <= r * 0.8 && dy >= -r * 0.8 && Math.Abs(dx) <= (dy + (r * 0.8)) * 0.6,
                    3 => (Math.Abs(dx) <= 1.5 && Math.Abs(dy) <= r) || (Math.Abs(dy) <= 1.5 && Math.Abs(dx) <= r),
                    4 => Math.Abs(dy) <= 2 && Math.Abs(dx) <= r * 1.3,
                    5 => Math.Abs(dx) <= 2 && Math.Abs(dy) <= r * 1.3,
                    6 => Math.Abs(dx - dy) <= 2 && d <= r * 1.3,
                    7 => d <= r && d >= r - 2.2,
                    8 => (Math.Abs(dx - dy) <= 1.6 || Math.Abs(dx + dy) <= 1.6) && d <= r * 1.2,
                    _ => Math.Sqrt(((dx - (r * 0.6)) * (dx - (r * 0.6))) + (dy * dy)) <= 2.5 || Math.Sqrt(((dx + (r * 0.6)) * (dx + (r * 0.6))) + (dy * dy)) <= 2.5,
                };
                double level = (on ? 200 : 20) + (Normal(random) * 35);
                pixels[(y * Size) + x] = (byte)Math.Clamp(level, 0, 255);
            }
        }

        return label;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>
/// Histograms of oriented gradients: each 7 × 7 cell of a 28 × 28 image votes its pixels' gradient directions (9
/// unsigned bins, weighted by magnitude) into a histogram; the 16 histograms together, scaled to unit length.
/// </summary>
public static class Hog
{
    private const int Cell = 7;
    private const int Bins = 9;
    private const int CellsPerSide = Images.Size / Cell;

    /// <summary>Features per image.</summary>
    public const int Dims = CellsPerSide * CellsPerSide * Bins;

    /// <summary>Writes the descriptor of <paramref name="pixels"/> into <paramref name="into"/> (<see cref="Dims"/> values).</summary>
    public static void Describe(ReadOnlySpan<byte> pixels, Span<float> into)
    {
        into.Clear();
        const int N = Images.Size;
        for (int y = 0; y < N; y++)
        {
            for (int x = 0; x < N; x++)
            {
                float gx = pixels[(y * N) + Math.Min(x + 1, N - 1)] - pixels[(y * N) + Math.Max(x - 1, 0)];
                float gy = pixels[(Math.Min(y + 1, N - 1) * N) + x] - pixels[(Math.Max(y - 1, 0) * N) + x];
                float magnitude = MathF.Sqrt((gx * gx) + (gy * gy));
                float angle = MathF.Atan2(gy, gx);
                if (angle < 0)
                {
                    angle += MathF.PI; // unsigned: a direction and its opposite share a bin
                }

                int bin = Math.Min((int)(angle / MathF.PI * Bins), Bins - 1);
                into[((((y / Cell) * CellsPerSide) + (x / Cell)) * Bins) + bin] += magnitude;
            }
        }

        float norm = 0;
        foreach (float v in into)
        {
            norm += v * v;
        }

        norm = MathF.Sqrt(norm) + 1e-6f;
        for (int i = 0; i < into.Length; i++)
        {
            into[i] /= norm;
        }
    }
}
