using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Providers.Aws;
using Neutral.Providers.Aws.Compute;
using Neutral.Wire;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// The AWS provider's figures.
/// <para>
/// <c>aws-invoke</c>: invocations per second of <see cref="LambdaComputeBackend.InvokeAsync"/> (SigV4-signed
/// <c>Event</c> invokes) against a Kestrel endpoint on 127.0.0.1 that answers 202 at once, 1 to 256 in flight.
/// </para>
/// <para>
/// <c>s3-store</c>: <see cref="S3ObjectStore"/> against the same operations made with <c>AmazonS3Client</c> directly (the
/// same client settings), on Ceph RGW from <c>scripts/services.sh</c>: 64 MiB puts and gets, and 1,000 small puts one
/// at a time and 16 at once. Rounds alternate which goes first.
/// </para>
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- aws-invoke</c> (or <c>s3-store</c>; <c>BENCH_S3_ENDPOINT</c>,
/// <c>BENCH_S3_ACCESS_KEY</c>, <c>BENCH_S3_SECRET_KEY</c> name another server).
/// </summary>
public static class AwsHarness
{
    private const int Rounds = 3;

    /// <summary>Invokes against the loopback endpoint.</summary>
    public static async Task InvokeAsync()
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        await using WebApplication app = builder.Build();
        int answered = 0;
        app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref answered);
            context.Response.StatusCode = StatusCodes.Status202Accepted;
        });
        await app.StartAsync();
        var endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

        var location = new StoreLocation("s3", "s3://bench?region=us-east-1", Cloud.InternalPrefix);
        var credentials = new BasicAWSCredentials("BENCHKEY", "BENCHSECRET");
        await using var backend = new LambdaComputeBackend(new LambdaSettings("us-east-1", "neutral", endpoint), location, credentials);
        await InvokeAllAsync(backend, BenchLoops.Envelopes(location, "warm", 4_000), 64);
        foreach (int inFlight in new[] { 1, 16, 64, 256 })
        {
            var rates = new double[Rounds];
            double cpu = 0;
            for (int run = 0; run < Rounds; run++)
            {
                InvocationEnvelope[] envelopes = BenchLoops.Envelopes(location, $"j{inFlight}-{run}", inFlight == 1 ? 4_000 : 20_000);
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                long start = Stopwatch.GetTimestamp();
                await InvokeAllAsync(backend, envelopes, inFlight);
                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                cpu += (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / envelopes.Length;
                rates[run] = envelopes.Length / elapsed.TotalSeconds;
            }

            Array.Sort(rates);
            Console.WriteLine($"LambdaComputeBackend.InvokeAsync (SigV4, Event), {inFlight,3} in flight: median of 3 {rates[1],7:0} invocations/s (min {rates[0]:0}, max {rates[2]:0}); process CPU (client and server) {cpu / Rounds:0} us per invocation");
        }

        Console.WriteLine($"(the endpoint answered {answered:N0} invocations)");
        await app.StopAsync();
    }

    private static Task InvokeAllAsync(LambdaComputeBackend backend, InvocationEnvelope[] envelopes, int inFlight) =>
        BenchLoops.InParallelAsync(envelopes.Length, inFlight, i => backend.InvokeAsync(envelopes[i]).AsTask());

    /// <summary>The store against the SDK on RGW.</summary>
    public static async Task StoreAsync()
    {
        var endpoint = new Uri(Environment.GetEnvironmentVariable("BENCH_S3_ENDPOINT") ?? "http://127.0.0.1:7480");
        var credentials = new BasicAWSCredentials(
            Environment.GetEnvironmentVariable("BENCH_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY",
            Environment.GetEnvironmentVariable("BENCH_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET");
        string bucket = "neutral-bench-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new S3Settings("us-east-1", bucket, endpoint);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; server {endpoint}, bucket {bucket}");
        using var store = new S3ObjectStore(settings, credentials);
        using IAmazonS3 raw = S3ObjectStore.Connect(settings, credentials);
        await store.EnsureBucketAsync();
        try
        {
            byte[] large = new byte[64 * 1024 * 1024];
            Random.Shared.NextBytes(large);
            await store.PutAsync("source/large", large);
            await BenchLoops.CompareAsync("put  64 MiB,  1 at a time,    3 ops", () => store.DeletePrefixAsync("w/"), 3, 1,
                (key, _) => raw.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(large, writable: false), UseChunkEncoding = false }),
                (key, _) => store.PutAsync(key, large));
            await BenchLoops.CompareAsync("get  64 MiB,  1 at a time,    3 ops", () => store.DeletePrefixAsync("w/"), 3, 1,
                async (key, _) =>
                {
                    using GetObjectResponse response = await raw.GetObjectAsync(bucket, "source/large");
                    using var buffer = new MemoryStream();
                    await response.ResponseStream.CopyToAsync(buffer);
                },
                (key, _) => store.GetAsync("source/large"));
            byte[] small = new byte[4096];
            Random.Shared.NextBytes(small);
            foreach (int inFlight in new[] { 1, 16 })
            {
                await BenchLoops.CompareAsync($"put   4 KiB, {inFlight,2} at a time, 1000 ops", () => store.DeletePrefixAsync("w/"), 1000, inFlight,
                    (key, _) => raw.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(small, writable: false), UseChunkEncoding = false }),
                    (key, _) => store.PutAsync(key, small));
            }
        }
        finally
        {
            await store.DeletePrefixAsync("");
            await raw.DeleteBucketAsync(bucket);
        }
    }
}
