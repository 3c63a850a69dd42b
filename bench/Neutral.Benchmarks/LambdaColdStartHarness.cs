using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Amazon.Runtime;
using Neutral.Emulators;
using Neutral.Providers.Aws;
using Neutral.Providers.Aws.Compute;
using Neutral.Wire;

namespace Neutral.Benchmarks;

/// <summary>
/// Cold start of a published application as a Lambda function (the custom runtime, <c>provided.al2023</c>): the
/// executable started by the Lambda emulator as Lambda starts a <c>bootstrap</c> (only the function's variables and
/// Lambda's own, the Runtime API on a sandbox endpoint), for a <c>RequestResponse</c> invocation of one real call
/// (<c>MonteCarlo.PiEstimator.CountInside</c> of a job staged in the S3 server), timed from the invoke (the process is
/// started by it) to the response, which comes after the call's status is in the store; then a second, warm one.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- aws-cold path/to/MonteCarlo [more executables]</c>
/// </summary>
public static class LambdaColdStartHarness
{
    private const int Runs = 7;

    /// <summary>Times each executable in turn; <paramref name="executables"/> are published MonteCarlo apps (JIT or NativeAOT).</summary>
    public static async Task RunAsync(IReadOnlyList<string> executables)
    {
        var server = new Uri(Environment.GetEnvironmentVariable("BENCH_S3_ENDPOINT") ?? "http://127.0.0.1:7480");
        string accessKey = Environment.GetEnvironmentVariable("BENCH_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY";
        string secretKey = Environment.GetEnvironmentVariable("BENCH_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET";
        var credentials = new BasicAWSCredentials(accessKey, secretKey);
        var settings = new S3Settings("us-east-1", "neutral-bench-" + Guid.NewGuid().ToString("N")[..8], server);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; store {server}, bucket {settings.Bucket}");
        using var store = new S3ObjectStore(settings, credentials);
        await store.EnsureBucketAsync();
        try
        {
            foreach (string executable in executables)
            {
                await TimeAsync(Path.GetFullPath(executable), settings, store, credentials, accessKey, secretKey);
            }
        }
        finally
        {
            await store.DeletePrefixAsync("");
            using Amazon.S3.IAmazonS3 client = S3ObjectStore.Connect(settings, credentials);
            await client.DeleteBucketAsync(settings.Bucket);
        }
    }

    private static async Task TimeAsync(string executable, S3Settings settings, S3ObjectStore store, AWSCredentials credentials, string accessKey, string secretKey)
    {
        bool nativeAot = !File.Exists(Path.Combine(Path.GetDirectoryName(executable)!, "libcoreclr.so"));
        // The variables a deployment sets (SelfDeployment), and the role's as Lambda sets them.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["NEUTRAL_WORKER"] = "aws",
            ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1",
        };
        if (!nativeAot)
        {
            environment["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers";
        }

        var role = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AWS_ACCESS_KEY_ID"] = accessKey,
            ["AWS_SECRET_ACCESS_KEY"] = secretKey,
            ["AWS_REGION"] = settings.Region,
            ["AWS_DEFAULT_REGION"] = settings.Region,
        };

        string name = $"{(nativeAot ? "NativeAOT" : "JIT (self-contained, ReadyToRun)")} {executable}";
        var firsts = new List<double>();
        var seconds = new List<double>();
        var location = new StoreLocation(AwsProvider.StoreKind, $"{settings.ServiceUrl!.GetLeftPart(UriPartial.Authority)}/{settings.Bucket}?region={settings.Region}", Cloud.InternalPrefix);
        for (int run = -1; run < Runs; run++)
        {
            // Run -1 fills the page cache with the executable's files and is not counted. A new service: a new sandbox.
            string job = "bench-" + Guid.NewGuid().ToString("N")[..8];
            await BenchLoops.StageAsync(store, job, Call(0), 2);
            await using var lambda = new LambdaService(executable, environment, accessKey, sandboxes: 1, roleEnvironment: role);
            await using var backend = new LambdaComputeBackend(new LambdaSettings(settings.Region, lambda.FunctionName, lambda.Endpoint, Synchronous: true), location, credentials);
            long start = Stopwatch.GetTimestamp();
            await backend.InvokeAsync(BenchLoops.Envelope(location, job, 0, Call(0)));
            double first = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            long warm = Stopwatch.GetTimestamp();
            await backend.InvokeAsync(BenchLoops.Envelope(location, job, 1, Call(1)));
            double second = Stopwatch.GetElapsedTime(warm).TotalMilliseconds;
            foreach (int index in new[] { 0, 1 })
            {
                if (await store.GetAsync(Cloud.InternalPrefix + StorageLayout.Status(job, index)) is null)
                {
                    Console.WriteLine($"{name}: call {index} wrote no status; outcomes {string.Join(", ", lambda.Outcomes)}; {string.Join(" | ", lambda.Errors)}");
                    return;
                }
            }

            if (run >= 0)
            {
                firsts.Add(first);
                seconds.Add(second);
            }
        }

        Console.WriteLine($"{name}, median of {Runs}: invoke to first response (cold) {BenchLoops.Median(firsts):0.0} ms (min {firsts.Min():0.0}); "
            + $"a second, warm invocation {BenchLoops.Median(seconds):0.0} ms (min {seconds.Min():0.0})");
    }

    private static RemoteCall<long> Call(int index) => MonteCarlo.Remote.PiEstimator.CountInside(index, 10_000);
}
