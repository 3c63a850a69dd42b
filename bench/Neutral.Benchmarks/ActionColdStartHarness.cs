using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Providers.OpenWhisk;
using Neutral.Wire;

namespace Neutral.Benchmarks;

/// <summary>
/// Cold start of a published application as an OpenWhisk action: the executable started the way the action proxy
/// starts it (<see cref="OpenWhiskActionProxy"/>: only the init variables, results on file descriptor 3), timed to its
/// acknowledgement, to the result of a first real activation (one <c>MonteCarlo.PiEstimator.CountInside</c> call of
/// a staged job, against the S3 server), and a second, warm one.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- openwhisk-cold path/to/MonteCarlo [more executables]</c>
/// </summary>
public static class ActionColdStartHarness
{
    private const int Runs = 7;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Times each executable in turn; <paramref name="executables"/> are published MonteCarlo apps (JIT or NativeAOT).</summary>
    public static async Task RunAsync(IReadOnlyList<string> executables)
    {
        var settings = new MinioSettings(
            Environment.GetEnvironmentVariable("BENCH_S3_ENDPOINT") ?? "127.0.0.1:7480",
            Environment.GetEnvironmentVariable("BENCH_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY",
            Environment.GetEnvironmentVariable("BENCH_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET",
            Secure: false);
        string bucket = "neutral-bench-" + Guid.NewGuid().ToString("N")[..8];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; store {settings}, bucket {bucket}");
        using var store = new MinioObjectStore(settings, bucket);
        await store.EnsureBucketAsync();
        string workingDirectory = Directory.CreateTempSubdirectory("neutral-proxy-cwd").FullName;
        try
        {
            foreach (string executable in executables)
            {
                await TimeAsync(Path.GetFullPath(executable), settings, store, workingDirectory);
            }
        }
        finally
        {
            await store.DeletePrefixAsync("");
            await store.DeleteBucketAsync();
            Directory.Delete(workingDirectory, recursive: true);
        }
    }

    private static async Task TimeAsync(string executable, MinioSettings settings, MinioObjectStore store, string workingDirectory)
    {
        bool nativeAot = !File.Exists(Path.Combine(Path.GetDirectoryName(executable)!, "libcoreclr.so"));
        // The init variables a deployment binds (SelfDeployment), and the __OW_* ones the proxy adds.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["NEUTRAL_WORKER"] = "openwhisk",
            [OpenWhiskProvider.AccessKeyVariable] = settings.AccessKey,
            [OpenWhiskProvider.SecretKeyVariable] = settings.SecretKey,
            [OpenWhiskProvider.RegionVariable] = settings.Region,
            ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1",
            ["__OW_API_HOST"] = "http://127.0.0.1:1",
            ["__OW_NAMESPACE"] = "guest",
        };
        if (!nativeAot)
        {
            environment["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers";
        }

        string name = $"{(nativeAot ? "NativeAOT" : "JIT (self-contained, ReadyToRun)")} {executable}";
        var acks = new List<double>();
        var firsts = new List<double>();
        var seconds = new List<double>();
        for (int run = -1; run < Runs; run++)
        {
            // Run -1 fills the page cache with the executable's files and is not counted.
            string job = "bench-" + Guid.NewGuid().ToString("N")[..8];
            await BenchLoops.StageAsync(store, job, Call(0), 2);
            long start = Stopwatch.GetTimestamp();
            await using var proxy = new OpenWhiskActionProxy(workingDirectory, OpenWhiskActionProxy.WithAck);
            ProxyReply init = await proxy.InitAsync(executable, environment, Timeout);
            double ack = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            ProxyReply first = await proxy.RunAsync(Activation(settings, store.Bucket, job, 0), Timeout);
            double firstResult = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            long warm = Stopwatch.GetTimestamp();
            ProxyReply second = await proxy.RunAsync(Activation(settings, store.Bucket, job, 1), Timeout);
            double secondResult = Stopwatch.GetElapsedTime(warm).TotalMilliseconds;
            foreach (ProxyReply reply in new[] { init, first, second })
            {
                if (!reply.Ok || (reply != init && !Succeeded(reply.Body)))
                {
                    Console.WriteLine($"{name}: the activation failed: HTTP {reply.Status} {reply.Body}\nlogs: {proxy.Logs}");
                    return;
                }
            }

            if (run >= 0)
            {
                acks.Add(ack);
                firsts.Add(firstResult);
                seconds.Add(secondResult);
            }
        }

        Console.WriteLine($"{name}, median of {Runs}: start to ack {BenchLoops.Median(acks):0.0} ms (min {acks.Min():0.0}); "
            + $"start to first result {BenchLoops.Median(firsts):0.0} ms (min {firsts.Min():0.0}); a second, warm activation {BenchLoops.Median(seconds):0.0} ms");
    }

    private static RemoteCall<long> Call(int index) => MonteCarlo.Remote.PiEstimator.CountInside(index, 10_000);

    /// <summary>One activation line as the action proxy writes it: the envelope as the value.</summary>
    private static string Activation(MinioSettings settings, string bucket, string job, int index)
    {
        var location = new StoreLocation(OpenWhiskProvider.StoreKind, $"http://{settings.Endpoint}/{bucket}", Cloud.InternalPrefix);
        InvocationEnvelope envelope = BenchLoops.Envelope(location, job, index, Call(index));
        string value = Encoding.UTF8.GetString(WireJson.Serialize(envelope));
        return $"{{\"value\":{value},\"namespace\":\"guest\",\"action_name\":\"neutral\",\"activation_id\":\"{Guid.NewGuid():N}\",\"deadline\":\"{DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds()}\"}}";
    }

    private static bool Succeeded(string body)
    {
        using JsonDocument document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("succeeded", out JsonElement ok) && ok.GetBoolean();
    }
}
