using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Providers.OpenWhisk.Compute;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// Invocations per second of the OpenWhisk client against <see cref="LoopbackController"/> (in this process, on
/// 127.0.0.1): <see cref="OpenWhiskComputeBackend.InvokeAsync"/> alone with many invocations in flight, then whole maps
/// through <c>Cloud.Submit</c> with <c>Compute=openwhisk</c>, the controller handing each invocation to in-process
/// workers (the real call loop) over an in-memory store.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- openwhisk-invoke</c>
/// </summary>
public static class OpenWhiskInvokeHarness
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:bench-key";
    private const int EnvelopeCount = 20_000;

    /// <summary>Runs both measurements and prints one line per figure.</summary>
    public static async Task RunAsync()
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await BackendAsync();
        await ExecutorAsync();
    }

    private static async Task BackendAsync()
    {
        await using LoopbackController controller = await LoopbackController.StartAsync();
        var location = new StoreLocation("minio", "http://127.0.0.1:7480/bench", Cloud.InternalPrefix);
        await using var backend = new OpenWhiskComputeBackend(new OpenWhiskSettings(controller.ApiHost, "_", "neutral", Key), location);
        await InvokeAllAsync(backend, BenchLoops.Envelopes(location, "warm", 4_000), 64); // JIT, connections
        foreach (int inFlight in new[] { 1, 16, 64, 128, 256 })
        {
            var rates = new double[3];
            double cpu = 0;
            for (int run = 0; run < rates.Length; run++)
            {
                InvocationEnvelope[] envelopes = BenchLoops.Envelopes(location, $"j{inFlight}-{run}", inFlight == 1 ? EnvelopeCount / 4 : EnvelopeCount);
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                long start = Stopwatch.GetTimestamp();
                await InvokeAllAsync(backend, envelopes, inFlight);
                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                cpu += (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / envelopes.Length;
                rates[run] = envelopes.Length / elapsed.TotalSeconds;
                backend.ForgetJob(envelopes[0].JobId);
            }

            Array.Sort(rates);
            Console.WriteLine($"InvokeAsync, {inFlight,3} in flight: median of 3 {rates[1],7:0} invocations/s (min {rates[0]:0}, max {rates[2]:0}); process CPU (client and server) {cpu / rates.Length:0} us per invocation");
        }
    }

    private static Task InvokeAllAsync(OpenWhiskComputeBackend backend, InvocationEnvelope[] envelopes, int inFlight) =>
        BenchLoops.InParallelAsync(envelopes.Length, inFlight, i => backend.InvokeAsync(envelopes[i]).AsTask());

    /// <summary>Maps of no-op calls through the executor: the controller queues each invocation for two in-process workers.</summary>
    private static async Task ExecutorAsync()
    {
        var memory = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "bench", Cloud.InternalPrefix);
        var queue = Channel.CreateUnbounded<byte[]>();
        await using LoopbackController controller = await LoopbackController.StartAsync(body => queue.Writer.TryWrite(body));
        var runner = new CallRunner(_ => memory, "loopback");
        Task[] workers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            await foreach (byte[] body in queue.Reader.ReadAllAsync())
            {
                await runner.RunAsync(WireJson.DeserializeEnvelope(body));
            }
        })).ToArray();

        var settings = new OpenWhiskSettings(controller.ApiHost, "_", "neutral", Key);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(memory, location))
            .AddCompute("openwhisk", _ => new OpenWhiskComputeBackend(settings, location));
        await using (Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "openwhisk";
            o.Storage = "memory";
            o.Job.SweepAfterHours = 0;
        }))
        {
            await cloud.MapAsync(Enumerable.Range(0, 2_000), BenchRemote.BenchFunctions.Noop); // JIT warm-up
            foreach (int calls in new[] { 1_000, 10_000 })
            {
                var rates = new double[3];
                for (int run = 0; run < rates.Length; run++)
                {
                    long start = Stopwatch.GetTimestamp();
                    int[] results = await cloud.MapAsync(Enumerable.Range(0, calls), BenchRemote.BenchFunctions.Noop);
                    rates[run] = calls / Stopwatch.GetElapsedTime(start).TotalSeconds;
                    if (results[^1] != calls - 1)
                    {
                        throw new InvalidOperationException("wrong result");
                    }
                }

                Array.Sort(rates);
                Console.WriteLine($"Cloud.MapAsync, Compute=openwhisk, {calls,6:N0} no-op calls (InvokeConcurrency {cloud.Options.Job.InvokeConcurrency}): median of 3 {rates[1],7:0} calls/s (min {rates[0]:0}, max {rates[2]:0})");
            }
        }

        queue.Writer.Complete();
        await Task.WhenAll(workers);
        Console.WriteLine($"(the controller answered {controller.Invocations:N0} invocations)");
    }
}
