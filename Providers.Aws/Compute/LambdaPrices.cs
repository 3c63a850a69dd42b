using System;

namespace Neutral.Providers.Aws.Compute;

/// <summary>
/// The prices <see cref="LambdaComputeBackend"/> estimates a job's cost with, in US dollars. The defaults are AWS's
/// public on-demand prices for US East (N. Virginia), x86, first pricing tier, as published on the Lambda and S3
/// pricing pages on <see cref="AsOf"/>; set <c>Neutral:Aws:PricePerGbSecond</c> and the others for another region, arm64
/// or a negotiated rate.
/// </summary>
/// <param name="PerGbSecond">Lambda duration: per GB-second of configured memory, billed by the millisecond.</param>
/// <param name="PerMillionRequests">Lambda requests: per million invocations.</param>
/// <param name="PerThousandWrites">S3 Standard PUT, COPY, POST and LIST requests: per thousand.</param>
/// <param name="PerThousandReads">S3 Standard GET requests: per thousand.</param>
public sealed record LambdaPrices(decimal PerGbSecond = 0.0000166667m, decimal PerMillionRequests = 0.20m, decimal PerThousandWrites = 0.005m, decimal PerThousandReads = 0.0004m)
{
    /// <summary>When the default prices were read from AWS's pricing pages.</summary>
    public const string AsOf = "2026-11-28";

    /// <summary>Objects the protocol writes per call that ends with a status (the worker's <c>started</c> marker and the status).</summary>
    public const int WritesPerCall = 2;

    /// <summary>Objects the protocol reads per call that ends with a status (the worker's look at the job, the client's read of the status).</summary>
    public const int ReadsPerCall = 2;

    /// <summary>The estimated cost of <paramref name="usage"/> on a function with <paramref name="memoryMb"/> of memory.</summary>
    public decimal Estimate(JobUsage usage, int memoryMb)
    {
        ArgumentNullException.ThrowIfNull(usage);
        decimal gbSeconds = usage.WorkerMilliseconds / 1000m * memoryMb / 1024m;
        decimal compute = gbSeconds * PerGbSecond + usage.Invocations * PerMillionRequests / 1_000_000m;
        // The job's manifest, then per finished call its writes and reads.
        decimal storage = (1 + (long)usage.CompletedCalls * WritesPerCall) * PerThousandWrites / 1000m + (long)usage.CompletedCalls * ReadsPerCall * PerThousandReads / 1000m;
        return compute + storage;
    }
}
