using System;

namespace Neutral;

/// <summary>
/// What a job used, as the client measured it, for a platform's price list: see
/// <see cref="IPricedComputeBackend.EstimateCost"/>.
/// </summary>
/// <param name="Calls">Calls in the job.</param>
/// <param name="Invocations">Attempts started (retries and speculative backups included): each is a billed request.</param>
/// <param name="WorkerMilliseconds">
/// The sum, over the attempts whose status was read, of the worker's time from start to end of the call, each rounded
/// up to a whole millisecond (attempts lost without a status are not in it: the estimate is low by their time).
/// </param>
/// <param name="CompletedCalls">Calls whose worker wrote a status (each wrote and read a handful of objects).</param>
public sealed record JobUsage(int Calls, int Invocations, long WorkerMilliseconds, int CompletedCalls);

/// <summary>
/// A compute backend that can price a job's use of its platform (<c>RemoteJob.EstimatedCost</c>); without it a job
/// costs 0 (the local provider).
/// </summary>
public interface IPricedComputeBackend : IComputeBackend
{
    /// <summary>The estimated cost of <paramref name="usage"/> in US dollars: compute, requests and the storage requests the protocol makes per call.</summary>
    decimal EstimateCost(JobUsage usage);
}
