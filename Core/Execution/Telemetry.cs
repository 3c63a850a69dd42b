using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Neutral.Execution;

/// <summary>
/// The client's traces and metrics, both named <c>Neutral</c>: spans for each job (<c>neutral.job</c>), its staging
/// (<c>neutral.stage</c>) and each invocation (<c>neutral.invoke</c>), whose context the envelope carries to the worker
/// (its <c>neutral.call</c> span is the invocation's child); counters of attempts started, calls succeeded and failed,
/// retries, throttled invocations and speculative backups, and the calls' run time. With no listener (no OpenTelemetry
/// configured) a span is never created and a counter only checks a flag.
/// </summary>
internal static class Telemetry
{
    /// <summary>The <see cref="ActivitySource"/> and <see cref="Meter"/> name to listen to.</summary>
    public const string Name = "Neutral";

    private static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    public static readonly Counter<long> AttemptsStarted = Meter.CreateCounter<long>("neutral.attempts.started", "{attempt}", "Call attempts invoked (first attempts, retries and backups).");

    public static readonly Counter<long> CallsSucceeded = Meter.CreateCounter<long>("neutral.calls.succeeded", "{call}", "Calls that succeeded.");

    public static readonly Counter<long> CallsFailed = Meter.CreateCounter<long>("neutral.calls.failed", "{call}", "Calls that failed for good.");

    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("neutral.retries", "{attempt}", "Attempts launched again after a platform fault (or a user exception with RetryOnException).");

    public static readonly Counter<long> Throttles = Meter.CreateCounter<long>("neutral.throttles", "{invocation}", "Invocations the platform throttled (each is sent again later).");

    public static readonly Counter<long> SpeculativeBackups = Meter.CreateCounter<long>("neutral.speculative_backups", "{attempt}", "Backup attempts launched for stragglers.");

    public static readonly Counter<long> Polls = Meter.CreateCounter<long>("neutral.polls", "{poll}", "Polls of storage for news of running jobs (each lists the launch slots that are due).");

    public static readonly Counter<long> Listings = Meter.CreateCounter<long>("neutral.listings", "{listing}", "Listings of launch slots (one per slot listed; a LIST request per page of keys).");

    public static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("neutral.call.duration", "s", "A succeeded call's run time on its worker.");

    /// <summary>
    /// Starts a job's span, not as the caller's current activity (the application's code after <c>Submit</c> is not
    /// part of the job); null when nobody listens.
    /// </summary>
    public static Activity? StartJob(string jobId, int calls, string function)
    {
        Activity? previous = Activity.Current;
        Activity? job = Source.StartActivity("neutral.job", ActivityKind.Internal);
        Activity.Current = previous;
        job?.SetTag("neutral.job.id", jobId).SetTag("neutral.job.calls", calls).SetTag("neutral.function", function);
        return job;
    }
}
