using System;

namespace Neutral.Providers.Azure.Compute;

/// <summary>
/// The prices <see cref="FunctionsComputeBackend"/> estimates a job's cost with, in US dollars: Azure Functions on the
/// Consumption plan (Linux) and the storage account's Blob (hot, LRS) and Queue operations. The defaults are the
/// East US pay-as-you-go prices as listed on <see cref="AsOf"/> (see docs/azure.md); set
/// <c>Neutral:Azure:PricePerGbSecond</c> and the others for another region, plan (Flex Consumption bills differently)
/// or a negotiated rate. The monthly free grant (400,000 GB-s and a million executions) is not subtracted.
/// </summary>
/// <param name="PerGbSecond">Execution time: per GB-second of observed memory.</param>
/// <param name="PerMillionExecutions">Executions: per million.</param>
/// <param name="MemoryMb">
/// The memory a call is billed at. The Consumption plan bills the memory it observes, rounded up to 128 MB (at most
/// 1,536 MB), which the client cannot see: 512 MB is a .NET handler with the storage clients and a small call.
/// </param>
/// <param name="PerTenThousandBlobWrites">Blob write operations (put, list): per 10,000.</param>
/// <param name="PerTenThousandBlobReads">Blob read operations: per 10,000.</param>
/// <param name="PerTenThousandQueueOperations">Queue operations (send, receive, delete): per 10,000.</param>
public sealed record FunctionsPrices(decimal PerGbSecond = 0.000016m, decimal PerMillionExecutions = 0.20m, int MemoryMb = 512,
    decimal PerTenThousandBlobWrites = 0.05m, decimal PerTenThousandBlobReads = 0.004m, decimal PerTenThousandQueueOperations = 0.004m)
{
    /// <summary>When the default prices were taken.</summary>
    public const string AsOf = "2026-11-28";

    /// <summary>Blobs the protocol writes per call that ends with a status (the worker's <c>started</c> marker and the status).</summary>
    public const int WritesPerCall = 2;

    /// <summary>Blobs the protocol reads per call (the worker's look at the job, the client's read of the status).</summary>
    public const int ReadsPerCall = 2;

    /// <summary>Queue operations per invocation: the client's send, the host's receive (a batch's share, counted whole) and delete.</summary>
    public const int QueueOperationsPerInvocation = 3;

    /// <summary>The Consumption plan's smallest billed execution: 100 ms at 128 MB.</summary>
    public const int MinimumMilliseconds = 100;

    /// <summary>The estimated cost of <paramref name="usage"/>.</summary>
    public decimal Estimate(JobUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        long milliseconds = Math.Max(usage.WorkerMilliseconds, (long)usage.CompletedCalls * MinimumMilliseconds);
        decimal gbSeconds = milliseconds / 1000m * Math.Clamp(MemoryMb, 128, 1536) / 1024m;
        decimal compute = gbSeconds * PerGbSecond + usage.Invocations * PerMillionExecutions / 1_000_000m;
        decimal storage = (1 + (long)usage.CompletedCalls * WritesPerCall) * PerTenThousandBlobWrites / 10_000m
            + (long)usage.CompletedCalls * ReadsPerCall * PerTenThousandBlobReads / 10_000m
            + (long)usage.Invocations * QueueOperationsPerInvocation * PerTenThousandQueueOperations / 10_000m;
        return compute + storage;
    }
}
