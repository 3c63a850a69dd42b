using System;
using System.Diagnostics;
using System.Numerics;
using System.Threading.Tasks;

namespace Neutral.Bench;

/// <summary>What a store-bandwidth call measured from inside the call.</summary>
/// <param name="WriteMBps">Megabytes (10^6 bytes) a second written, one object.</param>
/// <param name="ReadMBps">Megabytes a second read back, the same object.</param>
public sealed record Bandwidth(double WriteMBps, double ReadMBps);

/// <summary>The PyWren paper's microbenchmarks (section 3.2) as remote calls: compute and storage bandwidth per worker.</summary>
public static class PaperFunctions
{
    /// <summary>GFLOPS of <paramref name="repeats"/> single-precision n × n matrix products inside the call.</summary>
    [Remote]
    public static double MatMulGflops(int n, int repeats) => MatMul.Gflops(n, repeats);

    /// <summary>Writes an object of <paramref name="mib"/> MiB to the named store (or the job's), reads it back, deletes it.</summary>
    [Remote]
    public static async Task<Bandwidth> StoreBandwidth(string? store, int mib, RemoteContext context)
    {
        IObjectStore target = store is null ? context.Storage : context.StorageOf(store);
        byte[] data = new byte[mib << 20];
        new Random(context.CallIndex).NextBytes(data);
        string key = $"paper-bandwidth/{context.JobId}/{context.CallIndex}";
        long start = Stopwatch.GetTimestamp();
        await target.PutAsync(key, data, context.CancellationToken);
        double write = Stopwatch.GetElapsedTime(start).TotalSeconds;
        start = Stopwatch.GetTimestamp();
        byte[]? back = await target.GetAsync(key, context.CancellationToken);
        double read = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await target.DeleteAsync(key, context.CancellationToken);
        if (back is null || back.Length != data.Length)
        {
            throw new InvalidOperationException($"read back {back?.Length} bytes of {data.Length}");
        }

        return new Bandwidth(data.Length / 1e6 / write, data.Length / 1e6 / read);
    }
}

/// <summary>A vectorized single-precision matrix multiply (i-k-j order, rows of C updated with Vector&lt;float&gt;).</summary>
public static class MatMul
{
    /// <summary>Multiplies two n × n matrices <paramref name="repeats"/> times; returns GFLOPS (2n³ a product).</summary>
    public static double Gflops(int n, int repeats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, Vector<float>.Count);
        var random = new Random(n);
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)random.NextDouble();
            b[i] = (float)random.NextDouble();
        }

        Multiply(a, b, c, n); // warm: the JIT's optimized code, caches
        long start = Stopwatch.GetTimestamp();
        for (int r = 0; r < repeats; r++)
        {
            Multiply(a, b, c, n);
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return 2.0 * n * n * n * repeats / seconds / 1e9;
    }

    private static void Multiply(float[] a, float[] b, float[] c, int n)
    {
        Array.Clear(c);
        int width = Vector<float>.Count;
        for (int i = 0; i < n; i++)
        {
            Span<float> row = c.AsSpan(i * n, n);
            for (int k = 0; k < n; k++)
            {
                var aik = new Vector<float>(a[(i * n) + k]);
                ReadOnlySpan<float> bRow = b.AsSpan(k * n, n);
                int j = 0;
                for (; j <= n - width; j += width)
                {
                    (new Vector<float>(row[j..]) + (aik * new Vector<float>(bRow[j..]))).CopyTo(row[j..]);
                }

                for (; j < n; j++)
                {
                    row[j] += a[(i * n) + k] * bRow[j];
                }
            }
        }
    }
}
