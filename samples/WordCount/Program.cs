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

// A map over stored text (PyWren's word count): the input is cut into byte ranges, one call per range, and each call
// counts the words of the whole lines its range owns; the client merges the counts.
//
// dotnet run -c Release --project samples/WordCount [-- [folder of .txt files] [--chunk-kib 256]]
// Without a folder it writes 8 files of made-up text (about 6 MiB) to the store first.
string? folder = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !int.TryParse(a, out _));
long chunkBytes = Option("--chunk-kib", 256) * 1024L;
const string Prefix = "wordcount/input/";

Cloud connected;
try
{
    connected = Cloud.Connect();
}
catch (NeutralConfigurationException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

await using Cloud cloud = connected;
await cloud.Storage.DeletePrefixAsync(Prefix);
long inputBytes = folder is null ? await WriteMadeUpTextAsync(cloud.Storage) : await UploadAsync(cloud.Storage, folder);

var watch = Stopwatch.StartNew();
List<ObjectChunk> chunks = await StorageInput.Split(cloud.Storage, Prefix, chunkBytes).ToListAsync();
Dictionary<string, long>[] counts = await cloud.MapAsync(chunks, c => Remote.Words.Count(c));
var total = new Dictionary<string, long>(StringComparer.Ordinal);
foreach (Dictionary<string, long> part in counts)
{
    foreach (var (word, n) in part)
    {
        total[word] = total.GetValueOrDefault(word) + n;
    }
}

Console.WriteLine($"{inputBytes / 1024.0 / 1024.0:0.0} MiB in {chunks.Count} chunks of {chunkBytes / 1024} KiB on '{cloud.Options.Compute}': "
    + $"{total.Values.Sum():N0} words, {total.Count:N0} distinct, in {watch.Elapsed.TotalSeconds:0.00} s");
foreach (var (word, n) in total.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(10))
{
    Console.WriteLine($"  {n,10:N0}  {word}");
}

await cloud.Storage.DeletePrefixAsync(Prefix);
return 0;

static async Task<long> WriteMadeUpTextAsync(IObjectStore store)
{
    string[] vocabulary = ["the", "cloud", "button", "map", "reduce", "lambda", "storage", "worker", "call", "chunk",
        "line", "byte", "range", "status", "object", "function", "serverless", "shuffle", "sort", "parameter"];
    var random = new Random(42);
    long bytes = 0;
    for (int file = 0; file < 8; file++)
    {
        var text = new StringBuilder();
        for (int line = 0; line < 20_000; line++)
        {
            int words = random.Next(0, 12);
            for (int w = 0; w < words; w++)
            {
                // Skewed, so that the top ten mean something.
                text.Append(vocabulary[(int)(vocabulary.Length * Math.Pow(random.NextDouble(), 2))]).Append(w + 1 < words ? " " : "");
            }

            text.Append('\n');
        }

        byte[] data = Encoding.UTF8.GetBytes(text.ToString());
        await store.PutAsync($"{Prefix}part-{file:D2}.txt", data);
        bytes += data.Length;
    }

    return bytes;
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

int Option(string name, int fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}
