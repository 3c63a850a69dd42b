using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MonteCarlo;
using Neutral;

// dotnet run --project samples/MonteCarlo [-- --calls 200 --samples 1000000 --compare]
int calls = Option("--calls", 200);
int samples = Option("--samples", 1_000_000);
bool compare = args.Contains("--compare");

Cloud connected;
try
{
    connected = Cloud.Connect();
}
catch (NeutralConfigurationException e)
{
    // A wrong key, value or provider in neutral.json, appsettings.json or NEUTRAL__* variables: say which, and stop.
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

await using Cloud cloud = connected;
Console.WriteLine($"Estimating pi with {calls} calls of {samples:N0} samples on '{cloud.Options.Compute}' ({cloud.Options.Local.EffectiveWorkers} workers)...");

var watch = Stopwatch.StartNew();
RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, calls).Select(seed => Remote.PiEstimator.CountInside(seed, samples)));
bool terminal = !Console.IsOutputRedirected;
if (terminal)
{
    job.Progress += (_, p) => DrawBar(p);
}

long[] inside = await job.GetResultsAsync();
watch.Stop();
if (terminal)
{
    Console.WriteLine();
}

double pi = 4.0 * inside.Sum() / ((double)calls * samples);
// The calls' own run times (worker start to end), summed: about what running them back to back would take.
double work = job.Futures.Sum(f => (f.Stats.WorkerEnd - f.Stats.WorkerStart)?.TotalSeconds ?? 0);
Console.WriteLine($"pi ~ {pi:F6} (error {Math.Abs(pi - Math.PI):E2})");
Console.WriteLine($"wall time {watch.Elapsed.TotalSeconds:F2} s; the calls' run times add up to {work:F2} s (about the time back to back); speed-up {work / watch.Elapsed.TotalSeconds:F2}x");

string timeline = Path.GetFullPath("timeline.svg");
await File.WriteAllTextAsync(timeline, job.Timeline.ToSvg());
Console.WriteLine($"timeline: {timeline}");

if (compare)
{
    // The ceiling: the same work with Parallel.For in this process, no workers, no storage.
    var local = Stopwatch.StartNew();
    long[] counts = new long[calls];
    Parallel.For(0, calls, seed => counts[seed] = PiEstimator.CountInside(seed, samples));
    local.Stop();
    if (!counts.SequenceEqual(inside))
    {
        throw new InvalidOperationException("Parallel.For and the remote calls disagree.");
    }

    Console.WriteLine($"Parallel.For in one process: {local.Elapsed.TotalSeconds:F2} s; Neutral takes {watch.Elapsed.TotalSeconds / local.Elapsed.TotalSeconds:F2}x its time");
}

return 0;

int Option(string name, int fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static void DrawBar(JobProgress p)
{
    const int width = 40;
    int filled = (int)(p.Fraction * width);
    lock (Console.Out)
    {
        // Padded: a shorter line must not leave the end of a longer one behind.
        Console.Write($"\r[{new string('#', filled)}{new string(' ', width - filled)}] {p.Done}/{p.Total} done, {p.Running} running".PadRight(width + 40));
    }
}
