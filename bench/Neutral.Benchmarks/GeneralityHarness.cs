using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Providers.Redis;
using Neutral.Storage;
using Neutral.Testing;
using WordCount;

namespace Neutral.Benchmarks;

/// <summary>
/// The paper's second half on the local provider, each against a one-machine baseline in the same run, printed as a
/// markdown table: the BSP word count against counting the same text in one process, and TeraSort against GNU sort of
/// the same records (as lines, <c>LC_ALL=C sort --parallel=N -S 25%</c>). Intermediate data in the file store, and on
/// Redis when <c>BENCH_REDIS</c> is set (for example 127.0.0.1:6390 from scripts/services.sh).
/// <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- wordcount [MiB]</c> (default 1024) and
/// <c>... -- sort [records]</c> (default 10,000,000: 1 GiB).
/// </summary>
public static class GeneralityHarness
{
    public static async Task WordCountAsync(string[] args)
    {
        int mib = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1024;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; word count of {mib:N0} MiB");
        Console.WriteLine("| intermediate data | Neutral (map, shuffle, reduce) | one process | ratio | words | distinct |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (string? scratch in Scratches())
        {
            using var root = new TempFolder("neutral-bench-wc");
            await using Cloud cloud = await ConnectAsync(root.Path, scratch);
            const string Prefix = "wc/input/";
            const int PartBytes = 16 << 20;
            int parts = (int)(((long)mib << 20) / PartBytes);
            await cloud.MapAsync(Enumerable.Range(0, parts), p => WordCount.Remote.Words.WriteCorpus($"{Prefix}part-{p:D4}.txt", p, PartBytes));

            // Rounds alternate which side goes first (this machine's memory costs drift within a run); medians compared.
            const int Rounds = 3;
            var neutralTimes = new List<double>();
            var singleTimes = new List<double>();
            string stages = "";
            long words = 0, distinct = 0;
            for (int round = 0; round < Rounds; round++)
            {
                for (int side = 0; side < 2; side++)
                {
                    var watch = Stopwatch.StartNew();
                    if ((side + round) % 2 == 0)
                    {
                        List<ObjectChunk> chunks = await StorageInput.Split(cloud.Storage, Prefix, 16 << 20).ToListAsync();
                        Shuffle<string, long> shuffle = cloud.NewShuffle<string, long>(Environment.ProcessorCount * 2, store: scratch);
                        // The stages MapShuffleReduceAsync runs, one by one, to time each.
                        ShuffleMapOutput[] outputs = await cloud.MapAsync(chunks, c => WordCount.Remote.Words.Map(c, shuffle));
                        double mapped = watch.Elapsed.TotalSeconds;
                        PartitionSummary[] summaries = await cloud.MapAsync(shuffle.PartitionsOf(outputs), p => WordCount.Remote.Words.Reduce(p, 10));
                        double reduced = watch.Elapsed.TotalSeconds - mapped;
                        await cloud.DeleteShuffleAsync(shuffle);
                        neutralTimes.Add(watch.Elapsed.TotalSeconds);
                        stages += $"{(stages.Length > 0 ? "; " : "")}{watch.Elapsed.TotalSeconds:0.00} (map {mapped:0.00}, reduce {reduced:0.00})";
                        (words, distinct) = (summaries.Sum(s => s.Words), summaries.Sum(s => s.Distinct));
                    }
                    else
                    {
                        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
                        await foreach (ObjectInfo info in cloud.Storage.ListAsync(Prefix))
                        {
                            Words.CountUtf8Into(counts, (await cloud.Storage.GetAsync(info.Key))!);
                        }

                        singleTimes.Add(watch.Elapsed.TotalSeconds);
                        if (words != 0 && (counts.Values.Sum() != words || counts.Count != distinct))
                        {
                            throw new InvalidOperationException("the counts differ");
                        }

                        (words, distinct) = (counts.Values.Sum(), counts.Count);
                    }
                }
            }

            double neutral = Median(neutralTimes), single = Median(singleTimes);
            Console.WriteLine($"| {scratch ?? "file store"} | {neutral:0.00} s | {single:0.00} s | {neutral / single:0.00}x | {words:N0} | {distinct:N0} |");
            Console.WriteLine($"|   rounds | {stages} | {string.Join("; ", singleTimes.Select(t => t.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))} | | | |");
            await cloud.Storage.DeletePrefixAsync(Prefix);
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    public static async Task SortAsync(string[] args)
    {
        long records = args.Length > 1 ? long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
        int parts = (int)Math.Max(1, records / 500_000);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; TeraSort of {records:N0} records ({records * 100 / 1024.0 / 1024.0:0} MiB) in {parts} parts");
        Console.WriteLine("| intermediate data | partition + sort (Neutral) | GNU sort | Neutral / GNU sort time | validated |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (string? scratch in Scratches())
        {
            using var root = new TempFolder("neutral-bench-sort");
            await using Cloud cloud = await ConnectAsync(root.Path, scratch);
            Sort.SortRun run = await Sort.SortRun.RunAsync(cloud, "sort/", records, parts, Environment.ProcessorCount * 4, scratch);

            // GNU sort on the same records, as lines, from a file on the same disk.
            string input = Path.Combine(root.Path, "gnu-input.txt"), output = Path.Combine(root.Path, "gnu-output.txt");
            await using (FileStream file = File.Create(input))
            {
                await foreach (ObjectInfo info in cloud.Storage.ListAsync("sort/input/"))
                {
                    await file.WriteAsync(await cloud.Storage.GetAsync(info.Key));
                }
            }

            var sort = new ProcessStartInfo("sort", ["--parallel=" + Environment.ProcessorCount, "-S", "25%", "-o", output, input]);
            sort.Environment["LC_ALL"] = "C";
            var watch = Stopwatch.StartNew();
            using (Process process = Process.Start(sort)!)
            {
                await process.WaitForExitAsync();
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException("GNU sort failed");
                }
            }

            double gnu = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"| {scratch ?? "file store"} | {run.Sort.TotalSeconds:0.00} s ({records * 100 / 1024.0 / 1024.0 / run.Sort.TotalSeconds:0} MiB/s) | {gnu:0.00} s ({records * 100 / 1024.0 / 1024.0 / gnu:0} MiB/s) | {run.Sort.TotalSeconds / gnu:0.00}x | {(run.Valid ? "sorted, a permutation" : "INVALID")} |");
            await cloud.Storage.DeletePrefixAsync("sort/");
        }
    }

    private static IEnumerable<string?> Scratches() =>
        Environment.GetEnvironmentVariable("BENCH_REDIS") is { Length: > 0 } ? [null, "scratch"] : [null];

    private static Task<Cloud> ConnectAsync(string root, string? scratch)
    {
        RedisProvider.Register();
        return Cloud.ConnectAsync(o =>
        {
            o.Local.Root = root;
            o.Job.SweepAfterHours = 0;
            if (scratch is not null)
            {
                o.Stores[scratch] = RedisProvider.StoreKind;
                o.Configuration = new ConfigurationBuilder()
                    .AddInMemoryCollection([new("Redis:Configuration", Environment.GetEnvironmentVariable("BENCH_REDIS"))])
                    .Build();
            }
        });
    }
}
