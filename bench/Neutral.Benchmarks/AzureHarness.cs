using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Neutral.Providers.Azure;
using Neutral.Providers.Azure.Compute;
using Neutral.Wire;

namespace Neutral.Benchmarks;

/// <summary>
/// The Azure provider's figures, on Azurite from <c>scripts/services.sh</c> (<c>BENCH_AZURE_CONNECTION_STRING</c> names
/// another account).
/// <para>
/// <c>azure-invoke</c>: invocations per second of <see cref="FunctionsComputeBackend.InvokeAsync"/> (one queue message
/// per attempt) into a queue of Azurite, 1 to 64 in flight.
/// </para>
/// <para>
/// <c>blob-store</c>: <see cref="BlobObjectStore"/> against the same operations made with <c>BlobClient</c> directly
/// (one <c>Upload</c>, one <c>DownloadContent</c>, the same client options): 64 MiB puts and gets, and 1,000 small puts
/// one at a time and 16 at once. Rounds alternate which goes first.
/// </para>
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- azure-invoke</c> (or <c>blob-store</c>).
/// </summary>
public static class AzureHarness
{
    private const int Rounds = 3;

    private static string ConnectionString => Environment.GetEnvironmentVariable("BENCH_AZURE_CONNECTION_STRING")
        ?? "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;";

    /// <summary>Queue sends against Azurite.</summary>
    public static async Task InvokeAsync()
    {
        string name = "neutral-bench-" + Guid.NewGuid().ToString("N")[..8];
        var queue = new QueueClient(ConnectionString, name, FunctionsComputeBackend.QueueOptions());
        await queue.CreateAsync();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; queue {queue.Uri}");
        var location = new StoreLocation(AzureProvider.StoreKind, "http://127.0.0.1:10000/devstoreaccount1/bench", Cloud.InternalPrefix);
        try
        {
            await using var backend = new FunctionsComputeBackend(new FunctionsSettings("bench", name), queue, location);
            await InvokeAllAsync(backend, BenchLoops.Envelopes(location, "warm", 2_000), 64);
            foreach (int inFlight in new[] { 1, 16, 64 })
            {
                var rates = new double[Rounds];
                double cpu = 0;
                for (int run = 0; run < Rounds; run++)
                {
                    InvocationEnvelope[] envelopes = BenchLoops.Envelopes(location, $"j{inFlight}-{run}", inFlight == 1 ? 1_000 : 4_000);
                    TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                    long start = Stopwatch.GetTimestamp();
                    await InvokeAllAsync(backend, envelopes, inFlight);
                    TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                    cpu += (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / envelopes.Length;
                    rates[run] = envelopes.Length / elapsed.TotalSeconds;
                    // A fresh queue per round: clearing thousands of messages costs Azurite more than the sends.
                    await queue.DeleteAsync();
                    await queue.CreateAsync();
                }

                Array.Sort(rates);
                Console.WriteLine($"FunctionsComputeBackend.InvokeAsync (queue message), {inFlight,3} in flight: median of 3 {rates[1],7:0} invocations/s (min {rates[0]:0}, max {rates[2]:0}); client CPU {cpu / Rounds:0} us per invocation");
            }

            // The same envelopes through the SDK's SendMessageAsync (the path before QueueSender), 16 in flight.
            {
                var rates = new double[Rounds];
                double cpu = 0;
                for (int run = 0; run < Rounds; run++)
                {
                    InvocationEnvelope[] envelopes = BenchLoops.Envelopes(location, $"sdk-{run}", 4_000);
                    TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                    long start = Stopwatch.GetTimestamp();
                    await BenchLoops.InParallelAsync(envelopes.Length, 16, i => queue.SendMessageAsync(BinaryData.FromBytes(WireJson.Serialize(envelopes[i]))));
                    TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                    cpu += (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / envelopes.Length;
                    rates[run] = envelopes.Length / elapsed.TotalSeconds;
                    await queue.DeleteAsync();
                    await queue.CreateAsync();
                }

                Array.Sort(rates);
                Console.WriteLine($"QueueClient.SendMessageAsync (the SDK),                  16 in flight: median of 3 {rates[1],7:0} invocations/s (min {rates[0]:0}, max {rates[2]:0}); client CPU {cpu / Rounds:0} us per invocation");
            }
        }
        finally
        {
            await queue.DeleteAsync();
        }
    }

    private static Task InvokeAllAsync(FunctionsComputeBackend backend, InvocationEnvelope[] envelopes, int inFlight) =>
        BenchLoops.InParallelAsync(envelopes.Length, inFlight, i => backend.InvokeAsync(envelopes[i]).AsTask());

    /// <summary>The store against the SDK on Azurite.</summary>
    public static async Task StoreAsync()
    {
        string container = "neutral-bench-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new BlobSettings(container, ConnectionString);
        using var store = new BlobObjectStore(settings);
        BlobContainerClient raw = BlobObjectStore.Connect(settings).GetBlobContainerClient(container);
        await store.EnsureContainerAsync();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; container {settings}");
        try
        {
            byte[] large = new byte[64 * 1024 * 1024];
            Random.Shared.NextBytes(large);
            await store.PutAsync("source/large", large);
            await BenchLoops.CompareAsync("put  64 MiB,  1 at a time,    3 ops", () => store.DeletePrefixAsync("w/"), 3, 1,
                (key, _) => raw.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(large), overwrite: true),
                (key, _) => store.PutAsync(key, large));
            await BenchLoops.CompareAsync("get  64 MiB,  1 at a time,    3 ops", () => store.DeletePrefixAsync("w/"), 3, 1,
                (key, _) => raw.GetBlobClient("source/large").DownloadContentAsync(),
                (key, _) => store.GetAsync("source/large"));
            byte[] small = new byte[4096];
            Random.Shared.NextBytes(small);
            foreach (int inFlight in new[] { 1, 16 })
            {
                await BenchLoops.CompareAsync($"put   4 KiB, {inFlight,2} at a time, 1000 ops", () => store.DeletePrefixAsync("w/"), 1000, inFlight,
                    (key, _) => raw.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(small), overwrite: true),
                    (key, _) => store.PutAsync(key, small));
            }
        }
        finally
        {
            await raw.DeleteIfExistsAsync();
        }
    }
}
