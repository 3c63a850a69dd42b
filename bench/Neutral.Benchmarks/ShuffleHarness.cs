using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Testing;
using Neutral.Wire;
using BenchRemote = Neutral.Bench.Remote;

namespace Neutral.Benchmarks;

/// <summary>
/// The shuffle's own cost on the simulated cloud (workers are the real call loop in this process, over an in-memory
/// store): M map calls each send one pair to each of R partitions, then R reduce calls read their partition from every
/// map output. Prints the intermediate objects written (the paper's layout would write M × R), each stage's time, and
/// the client's CPU per map call to turn the map outputs into the reducers' inputs.
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- shuffle [M] [R]</c> (default 2,500 × 2,500).
/// </summary>
public static class ShuffleHarness
{
    public static async Task RunAsync(string[] args)
    {
        int maps = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2_500;
        int partitions = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2_500;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; M = {maps:N0} map calls, R = {partitions:N0} partitions, {partitions:N0} pairs per map call");
        var memory = new InMemoryObjectStore();
        var location = new StoreLocation("memory", "bench", Cloud.InternalPrefix);
        var platform = new SimulatedCloud(memory, location, TimeProvider.System);
        var providers = new ProviderRegistry()
            .AddStorage("memory", _ => new StoreConnection(memory, location))
            .AddCompute("simulated", _ => platform);
        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Providers = providers;
            o.Compute = "simulated";
            o.Storage = "memory";
            o.Job.SweepAfterHours = 0;
        });

        Shuffle<long, int> shuffle = cloud.NewShuffle<long, int>(partitions);
        var watch = Stopwatch.StartNew();
        ShuffleMapOutput[] outputs = await cloud.MapAsync(Enumerable.Range(0, maps), m => BenchRemote.ShuffleFunctions.Map(m, partitions, shuffle));
        TimeSpan mapTime = watch.Elapsed;
        int objects = await memory.ListAsync(Cloud.InternalPrefix + ShuffleLimitsFolder(shuffle.Id)).CountAsync();

        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        watch.Restart();
        ShufflePartition<long, int>[] inputs = shuffle.PartitionsOf(outputs);
        TimeSpan planWall = watch.Elapsed;
        TimeSpan planCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        watch.Restart();
        long[] counts = await cloud.MapAsync(inputs, p => BenchRemote.ShuffleFunctions.Reduce(p));
        TimeSpan reduceTime = watch.Elapsed;
        long pairs = counts.Sum();
        if (pairs != (long)maps * partitions)
        {
            throw new InvalidOperationException($"read {pairs} pairs, wrote {(long)maps * partitions}");
        }

        int deleted = await cloud.DeleteShuffleAsync(shuffle);
        Console.WriteLine($"| M × R | intermediate objects | paper's layout | map stage | reducers' inputs (client) | reduce stage ({(long)maps * partitions:N0} ranged reads) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Console.WriteLine($"| {maps:N0} × {partitions:N0} | {objects:N0} (deleted {deleted:N0}) | {(long)maps * partitions:N0} | {mapTime.TotalSeconds:0.00} s | {planWall.TotalMilliseconds:0} ms, {planCpu.TotalMicroseconds / maps:0.0} µs CPU per map call | {reduceTime.TotalSeconds:0.00} s |");
    }

    private static string ShuffleLimitsFolder(string id) => Neutral.Shuffles.ShuffleLimits.Folder(id);
}
