using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral;
using Neutral.Storage;
using WordCount;

// The PyWren paper's BSP word count: map calls count the words of stored text, chunk by chunk, and shuffle the counts
// by word into partitions; reduce calls each sum one partition and return its top words. The client sees the top words
// and the totals, never the whole vocabulary; the intermediate data stays in a store (on Redis with --scratch).
//
// dotnet run -c Release --project samples/WordCount [-- [folder of .txt files] [--size-mib 64] [--chunk-kib 4096]
//     [--partitions 8] [--top 10] [--scratch NAME] [--compare]]
// Without a folder, workers write a made-up corpus of --size-mib to the store first (in parallel, 16 MiB a part).
// --scratch NAME keeps the shuffle's data in the store Neutral:Stores:NAME (for example NEUTRAL__STORES__SCRATCH=redis).
// --compare also counts the same text in this one process and checks that both counts agree.
string? folder = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !IsOptionValue(a));
int sizeMib = Option("--size-mib", 64);
long chunkBytes = Option("--chunk-kib", 4096) * 1024L;
int partitions = Option("--partitions", 8);
int top = Option("--top", 10);
string? scratch = Text("--scratch");
bool compare = args.Contains("--compare");
const string Prefix = "wordcount/input/";

Cloud connected;
try
{
    connected = await Cloud.ConnectAsync();
}
catch (NeutralConfigurationException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

await using Cloud cloud = connected;
await cloud.Storage.DeletePrefixAsync(Prefix);
var watch = Stopwatch.StartNew();
long inputBytes = folder is null ? await WriteCorpusAsync(cloud, sizeMib) : await UploadAsync(cloud.Storage, folder);
Console.WriteLine($"input: {inputBytes / 1024.0 / 1024.0:0.0} MiB under {Prefix} ({(folder is null ? "made up by workers" : "uploaded")}, {watch.Elapsed.TotalSeconds:0.00} s)");

watch.Restart();
List<ObjectChunk> chunks = await StorageInput.Split(cloud.Storage, Prefix, chunkBytes).ToListAsync();
Shuffle<string, long> shuffle;
try
{
    shuffle = cloud.NewShuffle<string, long>(partitions, store: scratch);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

PartitionSummary[] summaries = await cloud.MapShuffleReduceAsync(shuffle, chunks, (chunk, s) => Remote.Words.Map(chunk, s), p => Remote.Words.Reduce(p, top));
double seconds = watch.Elapsed.TotalSeconds;
long words = summaries.Sum(s => s.Words);
long distinct = summaries.Sum(s => s.Distinct);
WordTally[] best = Words.Top(summaries.SelectMany(s => s.Top).Select(t => KeyValuePair.Create(t.Word, t.Count)), top);
Console.WriteLine($"{chunks.Count} map calls, {partitions} partitions{(scratch is null ? "" : $" on store '{scratch}'")}, on '{cloud.Options.Compute}': "
    + $"{words:N0} words, {distinct:N0} distinct, in {seconds:0.00} s ({inputBytes / 1024.0 / 1024.0 / seconds:0.0} MiB/s)");
foreach (WordTally tally in best)
{
    Console.WriteLine($"  {tally.Count,12:N0}  {tally.Word}");
}

int status = 0;
if (compare)
{
    watch.Restart();
    var counts = new Dictionary<string, long>(StringComparer.Ordinal);
    await foreach (ObjectInfo info in cloud.Storage.ListAsync(Prefix))
    {
        Words.CountUtf8Into(counts, (await cloud.Storage.GetAsync(info.Key))!);
    }

    double single = watch.Elapsed.TotalSeconds;
    bool same = counts.Values.Sum() == words && counts.Count == distinct && Words.Top(counts, top).SequenceEqual(best);
    Console.WriteLine($"one process: {single:0.00} s; Neutral took {seconds / single:0.00}x of that; the counts {(same ? "agree" : "DIFFER")}");
    status = same ? 0 : 1;
}

await cloud.Storage.DeletePrefixAsync(Prefix);
return status;

static async Task<long> WriteCorpusAsync(Cloud cloud, int mib)
{
    const int PartBytes = 16 << 20;
    long total = (long)mib << 20;
    int parts = (int)((total + PartBytes - 1) / PartBytes);
    long[] written = await cloud.MapAsync(Enumerable.Range(0, parts), p =>
        Remote.Words.WriteCorpus($"{Prefix}part-{p:D4}.txt", p, (int)Math.Min(PartBytes, total - ((long)p * PartBytes))));
    return written.Sum();
}

static async Task<long> UploadAsync(IObjectStore store, string folder)
{
    long bytes = 0;
    foreach (string path in Directory.EnumerateFiles(folder, "*.txt").Order(StringComparer.Ordinal))
    {
        byte[] data = await File.ReadAllBytesAsync(path);
        await store.PutAsync(Prefix + Path.GetFileName(path), data);
        bytes += data.Length;
    }

    return bytes;
}

bool IsOptionValue(string arg)
{
    int at = Array.IndexOf(args, arg);
    return at > 0 && args[at - 1].StartsWith("--", StringComparison.Ordinal) && args[at - 1] != "--compare";
}

string? Text(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

int Option(string name, int fallback) => Text(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
