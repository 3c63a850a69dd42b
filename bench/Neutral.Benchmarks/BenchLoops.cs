using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>What the providers' harnesses share: envelopes of no-op calls, operations run N at a time, and raw-against-store comparisons.</summary>
public static class BenchLoops
{
    /// <summary>Envelopes of <c>Noop(i)</c> calls of job <paramref name="job"/>.</summary>
    public static InvocationEnvelope[] Envelopes(StoreLocation location, string job, int count) =>
        Enumerable.Range(0, count).Select(i => Envelope(location, job, i, BenchRemote.BenchFunctions.Noop(i))).ToArray();

    /// <summary>The first attempt's envelope of <paramref name="call"/> as call <paramref name="index"/> of job <paramref name="job"/>, its input inline.</summary>
    public static InvocationEnvelope Envelope<T>(StoreLocation location, string job, int index, RemoteCall<T> call) => new()
    {
        JobId = job,
        CallIndex = index,
        FunctionId = call.Function.Id,
        SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
        InlineInput = call.Arguments.ToArray(),
        Attempt = 1,
        Store = location,
    };

    /// <summary>
    /// Stores job <paramref name="job"/>'s manifest under <see cref="Cloud.InternalPrefix"/> as a client stages it before
    /// invoking (a worker checks it before it starts and before it writes late): <paramref name="count"/> calls of <paramref name="call"/>'s function.
    /// </summary>
    public static Task StageAsync<T>(IObjectStore store, string job, RemoteCall<T> call, int count) =>
        store.PutAsync(Cloud.InternalPrefix + StorageLayout.Manifest(job), WireJson.Serialize(new JobManifest
        {
            JobId = job,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            CallCount = count,
            ClientVersion = "0",
            Owner = "bench/1/1",
        }));

    /// <summary>The median of <paramref name="values"/> (the upper one of an even count).</summary>
    public static double Median(System.Collections.Generic.IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>Runs <paramref name="operation"/> for 0 to <paramref name="count"/> - 1, <paramref name="inFlight"/> at a time.</summary>
    public static Task InParallelAsync(int count, int inFlight, Func<int, Task> operation)
    {
        int next = -1;
        return Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                await operation(i);
            }
        })));
    }

    /// <summary>
    /// Times <paramref name="ops"/> operations of each kind (keys under <c>w/raw/</c> and <c>w/store/</c>), alternating
    /// which goes first, 3 counted rounds after one warm-up, <paramref name="cleanup"/> after each; prints the medians
    /// and their ratio (store over raw).
    /// </summary>
    public static async Task CompareAsync(string name, Func<Task> cleanup, int ops, int inFlight, Func<string, int, Task> raw, Func<string, int, Task> neutral)
    {
        const int Rounds = 3;
        var rawRates = new double[Rounds];
        var storeRates = new double[Rounds];
        for (int round = -1; round < Rounds; round++)
        {
            // Round -1 warms both paths (JIT, connections) and is not counted. The order alternates: the second of a
            // pair can pay for work the server still does for the first (writes above all).
            double r, s;
            if (round % 2 == 0)
            {
                r = await TimeAsync($"w/raw/{round}/", ops, inFlight, raw);
                s = await TimeAsync($"w/store/{round}/", ops, inFlight, neutral);
            }
            else
            {
                s = await TimeAsync($"w/store/{round}/", ops, inFlight, neutral);
                r = await TimeAsync($"w/raw/{round}/", ops, inFlight, raw);
            }

            if (round >= 0)
            {
                rawRates[round] = r;
                storeRates[round] = s;
            }

            await cleanup();
        }

        Array.Sort(rawRates);
        Array.Sort(storeRates);
        double rawMedian = rawRates[Rounds / 2], storeMedian = storeRates[Rounds / 2];
        Console.WriteLine($"{name}: raw {rawMedian,7:0.0} ops/s, store {storeMedian,7:0.0} ops/s, ratio {storeMedian / rawMedian:0.00} "
            + $"(raw {string.Join(" ", rawRates.Select(x => x.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}; store {string.Join(" ", storeRates.Select(x => x.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))})");
    }

    private static async Task<double> TimeAsync(string prefix, int ops, int inFlight, Func<string, int, Task> operation)
    {
        long start = Stopwatch.GetTimestamp();
        await InParallelAsync(ops, inFlight, i => operation(prefix + i, i));
        return ops / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
