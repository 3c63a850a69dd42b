using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MonteCarlo;
using Neutral;

// dotnet run --project samples/MonteCarlo [-- --calls 200 --samples 1000000 --compare]
// dotnet run --project samples/MonteCarlo -- --attach <job id> [--samples 1000000]: the results of a job this sample
// started in another process (killed, say), which this one takes over once its lease lapses, or at once when that
// process ran on this host and has ended. --kill-after <n> makes the first process kill itself (SIGKILL) once n calls
// are done, to try it.
int calls = Option("--calls", 200);
int samples = Option("--samples", 1_000_000);
bool compare = args.Contains("--compare");
int attachAt = Array.IndexOf(args, "--attach");
string? attachTo = attachAt >= 0 && attachAt + 1 < args.Length ? args[attachAt + 1] : null;

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
if (attachTo is not null)
{
    return await AttachAsync(cloud, attachTo, samples);
}

Console.WriteLine($"Estimating pi with {calls} calls of {samples:N0} samples on '{cloud.Options.Compute}' ({cloud.Options.Local.EffectiveWorkers} workers)...");

var watch = Stopwatch.StartNew();
RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, calls).Select(seed => Remote.PiEstimator.CountInside(seed, samples)));
Console.WriteLine($"job {job.JobId} (should this process die, attach to it with --attach {job.JobId})");
if (Option("--kill-after", 0) is > 0 and int killAfter)
{
    // A crash, for trying --attach: SIGKILL to this process once that many calls are done (no handler, no cleanup).
    job.Progress += (_, p) =>
    {
        if (p.Done >= killAfter)
        {
            Process.GetCurrentProcess().Kill();
        }
    };
}
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

static async Task<int> AttachAsync(Cloud cloud, string jobId, int samples)
{
    RemoteJob<long> job = await cloud.AttachAsync<long>(jobId);
    Console.WriteLine($"attached to job {jobId}: {job.Count} calls, {job.Current.Done} done, {(job.Driving ? "driving it" : "observing it")}");
    long[] inside = await job.GetResultsAsync();

    // Each result checked against the method run here, for every 50th call (all would take as long as the job).
    bool match = Enumerable.Range(0, inside.Length).Where(i => i % 50 == 0).All(i => inside[i] == PiEstimator.CountInside(i, samples));
    int relaunched = job.Futures.Count(f => f.Stats.Attempt > 1000);
    Console.WriteLine($"results {inside.Length}, relaunched {relaunched}, match {match}, pi ~ {4.0 * inside.Sum() / ((double)inside.Length * samples):F4}");
    return match ? 0 : 1;
}

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
