using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Amazon.Runtime;
using Microsoft.Extensions.Configuration;
using Neutral.Emulators;
using Neutral.Providers.Aws;
using Neutral.Providers.Aws.Compute;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// <c>aws-launch [calls] [latency-ms]</c>: how long a job of <c>calls</c> no-op calls (default 100,000) takes to be
/// launched on the Lambda emulator when the client is <c>latency-ms</c> (default 100) away from the service, with
/// <c>Job:InvokeFrom=client</c> against <c>cloud</c>. The emulator adds the latency to every request that reaches its
/// public endpoint (the client's), not to its inside endpoint (a function's <c>AWS_ENDPOINT_URL_LAMBDA</c>). Its
/// sandboxes run this benchmark's own executable as the function's <c>bootstrap</c> (the JIT path, the role's keys and
/// region in the environment; 8 sandboxes), over Ceph RGW from <c>scripts/services.sh</c>. Measured: the time from
/// <c>Submit</c> until the emulator has accepted an invocation of every call; the job is then cancelled.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class LaunchHarness
{
    /// <summary>The emulator's sandboxes (function instances): enough that launcher calls are not queued behind calls.</summary>
    private const int Sandboxes = 8;

    /// <summary>Runs both ways, client first.</summary>
    public static async Task RunAsync(int calls, int latencyMs)
    {
        var server = new Uri(Environment.GetEnvironmentVariable("BENCH_S3_ENDPOINT") ?? "http://127.0.0.1:7480");
        string accessKey = Environment.GetEnvironmentVariable("BENCH_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY";
        string secretKey = Environment.GetEnvironmentVariable("BENCH_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET";
        string bucket = "neutral-launch-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new S3Settings("us-east-1", bucket, server);
        var credentials = new BasicAWSCredentials(accessKey, secretKey);
        using var store = new S3ObjectStore(settings, credentials);
        await store.EnsureBucketAsync();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {calls:N0} calls, {latencyMs} ms between client and service; store {server}");

        // The deployed tables, where a deployment keeps them.
        var tables = Neutral.Dispatch.RemoteDispatch.Functions.ToDictionary(f => f.Id, f => Wire.InvocationEnvelope.FormatHash(f.SignatureHash), StringComparer.Ordinal);
        await store.TryCreateAsync(Cloud.InternalPrefix + LambdaDeployer.TablesKey(LambdaDeployer.TablesDigest(tables)), Encoding.UTF8.GetBytes(LambdaDeployer.TablesText(tables)));

        string folder = Directory.CreateTempSubdirectory("neutral-launch-").FullName;
        try
        {
            string bootstrap = Bootstrap(folder);
            foreach (string from in new[] { "client", "cloud" })
            {
                await RunOnceAsync(from, calls, latencyMs, bootstrap, tables, settings, accessKey, secretKey);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            await store.DeletePrefixAsync("");
            using Amazon.S3.IAmazonS3 client = S3ObjectStore.Connect(settings, credentials);
            await client.DeleteBucketAsync(bucket);
        }
    }

    private static async Task RunOnceAsync(string from, int calls, int latencyMs, string bootstrap, Dictionary<string, string> tables, S3Settings settings, string accessKey, string secretKey)
    {
        var role = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AWS_ACCESS_KEY_ID"] = accessKey,
            ["AWS_SECRET_ACCESS_KEY"] = secretKey,
            ["AWS_REGION"] = settings.Region,
            ["AWS_DEFAULT_REGION"] = settings.Region,
        };
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["NEUTRAL_WORKER"] = "aws",
            [LambdaDeployer.TablesVariable] = LambdaDeployer.TablesDigest(tables),
            ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
            ["NEUTRAL_WORKER_ASSEMBLIES"] = "Neutral.Providers.Aws;Neutral.Bench.Functions",
            ["DOTNET_TieredPGO"] = "0",
        };
        // No concurrency limit: asynchronous invocations queue at Lambda, and the limit applies to running ones, which the
        // sandboxes bound here.
        await using var lambda = new LambdaService(bootstrap, environment, accessKey, sandboxes: Sandboxes, concurrencyLimit: int.MaxValue, roleEnvironment: role)
        {
            ClientLatency = TimeSpan.FromMilliseconds(latencyMs),
        };
        environment["AWS_ENDPOINT_URL_LAMBDA"] = lambda.InsideEndpoint.ToString();
        lambda.Environment = environment;

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Neutral:Compute"] = "aws",
            ["Neutral:Storage"] = AwsProvider.StoreKind,
            ["Neutral:Aws:Region"] = settings.Region,
            ["Neutral:Aws:Bucket"] = settings.Bucket,
            ["Neutral:Aws:ServiceUrl"] = settings.ServiceUrl!.ToString(),
            ["Neutral:Aws:AccessKeyId"] = accessKey,
            ["Neutral:Aws:SecretAccessKey"] = secretKey,
            ["Neutral:Aws:LambdaServiceUrl"] = lambda.Endpoint.ToString(),
            ["Neutral:Job:InvokeFrom"] = from,
            ["Neutral:Job:CancelOnSignal"] = "false",
        }).Build();
        AwsProvider.Register();
        await using Cloud cloud = Cloud.Connect(configuration);
        long start = Stopwatch.GetTimestamp();
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, calls).Select(i => BenchRemote.BenchFunctions.Noop(i)));
        TimeSpan? firstDone = null;
        while (lambda.Invocations - lambda.LauncherInvocations < calls)
        {
            firstDone ??= job.Current.Succeeded > 0 ? Stopwatch.GetElapsedTime(start) : null;
            if (job.Completion.IsCompleted)
            {
                throw new InvalidOperationException($"the job ended with {lambda.Invocations - lambda.LauncherInvocations} of {calls} calls invoked");
            }

            await Task.Delay(10);
        }

        TimeSpan launched = Stopwatch.GetElapsedTime(start);
        int succeeded = job.Current.Succeeded;
        // The sandboxes would take minutes more to run every call (four store writes each, on two cores): the launch is
        // what is measured, so the job is cancelled here; its queued invocations find it gone and write nothing.
        await job.CancelAsync();
        Console.WriteLine($"InvokeFrom={from,-6}: every call invoked after {launched.TotalSeconds,6:0.0} s ({calls / launched.TotalSeconds,6:0} invocations/s); "
            + $"{lambda.LauncherInvocations} launcher calls; first call done after {firstDone?.TotalSeconds ?? double.NaN:0.0} s; {succeeded:N0} done by the end of the launch");
    }

    /// <summary>A <c>bootstrap</c> that starts this benchmark's executable again, as the function.</summary>
    private static string Bootstrap(string folder)
    {
        string deps = ((string)AppContext.GetData("APP_CONTEXT_DEPS_FILES")!).Split(';')[0];
        string runtimeConfig = deps[..^".deps.json".Length] + ".runtimeconfig.json";
        string entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        string path = Path.Combine(folder, "bootstrap");
        File.WriteAllText(path, $"#!/bin/sh\nexec '{Environment.ProcessPath}' exec --runtimeconfig '{runtimeConfig}' --depsfile '{deps}' '{entry}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
