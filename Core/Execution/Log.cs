using System;
using Microsoft.Extensions.Logging;

namespace Neutral.Execution;

/// <summary>The executor's log messages (source-generated: no formatting cost when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "[{JobId}] {Elapsed} ms {What}")]
    public static partial void Milestone(ILogger logger, string jobId, double elapsed, string what);

    [LoggerMessage(2, LogLevel.Debug, "Call {Call} of job {JobId}: {Reason}; attempt {Attempt} launched")]
    public static partial void Retrying(ILogger logger, int call, string jobId, string reason, int attempt);

    [LoggerMessage(3, LogLevel.Error, "Job {JobId} failed: {Message}")]
    public static partial void JobFailed(ILogger logger, Exception exception, string jobId, string message);

    [LoggerMessage(4, LogLevel.Warning, "Job {JobId}: its data could not be deleted ({Message}); a later Connect sweeps it")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, string jobId, string message);

    [LoggerMessage(5, LogLevel.Debug, "Cancelling job {JobId} on the backend failed")]
    public static partial void BackendCancelFailed(ILogger logger, Exception? exception, string jobId);

    [LoggerMessage(6, LogLevel.Debug, "Invocation of call {Call} attempt {Attempt} throttled; waiting {Wait} ms")]
    public static partial void Throttled(ILogger logger, int call, int attempt, double wait);

    [LoggerMessage(7, LogLevel.Error, "A Progress handler threw; the job goes on. {Message}")]
    public static partial void ProgressHandlerFailed(ILogger logger, Exception exception, string message);

    [LoggerMessage(8, LogLevel.Debug, "Store operation failed ({Error}); retry {Attempt} in {Delay} ms")]
    public static partial void StoreRetry(ILogger logger, string? error, int attempt, double delay);

    [LoggerMessage(9, LogLevel.Debug, "Second cleanup pass of job {JobId} failed")]
    public static partial void LatePassFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(10, LogLevel.Information, "Deleted {Count} jobs and shared folders left by clients that are gone")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(11, LogLevel.Warning, "Sweeping data of dead clients failed: {Message}")]
    public static partial void SweepFailed(ILogger logger, Exception exception, string message);

    [LoggerMessage(12, LogLevel.Warning, "Disposing: {Count} jobs did not finish cleaning up within {Seconds} s; their data stays in storage until a later Connect sweeps it")]
    public static partial void DisposeLeftJobs(ILogger logger, int count, double seconds);

    [LoggerMessage(13, LogLevel.Warning, "Disposing: shared values under {Folder} were not deleted ({Message}); a later Connect sweeps them")]
    public static partial void DisposeLeftShared(ILogger logger, Exception exception, string folder, string message);

    [LoggerMessage(14, LogLevel.Warning, "Invocation of call {Call} attempt {Attempt} could not connect ({Message}); try {Try}, next in {Wait} ms")]
    public static partial void Unreachable(ILogger logger, int call, int attempt, string message, int @try, double wait);

    [LoggerMessage(15, LogLevel.Warning, "Invocation of call {Call} attempt {Attempt} got no answer in time ({Message}); it may have been delivered: its status decides")]
    public static partial void MaybeDelivered(ILogger logger, int call, int attempt, string message);

    [LoggerMessage(16, LogLevel.Warning, "A launch list of {Count} attempts could not be staged ({Message}); they are invoked from this process")]
    public static partial void LaunchNotStaged(ILogger logger, int count, string message);

    [LoggerMessage(17, LogLevel.Warning, "Launcher call {Launcher} of job {JobId}: {Failed} of {Count} attempts could not be invoked ({Message}); each is recorded as not run")]
    public static partial void LaunchIncomplete(ILogger logger, int launcher, string jobId, int failed, int count, string message);

    [LoggerMessage(18, LogLevel.Warning, "The lease of job {JobId} could not be renewed or read ({Message}); trying again at the next renewal")]
    public static partial void LeaseFailed(ILogger logger, Exception exception, string jobId, string message);
}
