using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;

namespace Neutral;

/// <summary>
/// A compute backend whose worker is deployed ahead of time (a cloud function, an OpenWhisk action): it can tell before
/// a job starts whether the deployed worker was built with the job's functions, and what the platform recorded about
/// an attempt that ended without an outcome in storage. The executor works without it (a stale worker then fails each
/// call, and a lost attempt is only "no status by the attempt's deadline").
/// </summary>
public interface IDeployedComputeBackend : IComputeBackend
{
    /// <summary>
    /// Checks, once before a job is staged, that the deployed worker has every function of <paramref name="functions"/>
    /// with the same signature hash. Implementations cache what they learn and look again when a function is missing
    /// (the worker may have been redeployed since).
    /// </summary>
    /// <exception cref="StaleWorkerException">The deployed worker lacks a function or has another version of it.</exception>
    /// <exception cref="System.InvalidOperationException">There is no deployed worker, or the platform refused the credentials.</exception>
    ValueTask VerifyDeploymentAsync(IReadOnlyCollection<RemoteFunctionInfo> functions, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the platform recorded about attempt <paramref name="attempt"/> of call <paramref name="callIndex"/> of job
    /// <paramref name="jobId"/> (for example "the action exhausted its memory"), or <see langword="null"/> when it has
    /// nothing to say. Called when an attempt is overdue; must not throw for a platform that cannot answer.
    /// </summary>
    ValueTask<string?> ExplainAttemptAsync(string jobId, int callIndex, int attempt, CancellationToken cancellationToken = default);

    /// <summary>The job ended: drop what was kept to explain its attempts.</summary>
    void ForgetJob(string jobId);
}
