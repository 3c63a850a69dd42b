using System;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral;

/// <summary>
/// What a compute backend can tell the executor about a job's attempts before storage shows it (the local provider
/// knows when a worker takes a call, finishes it or dies). Hints are a pure speed-up: the executor behaves the same,
/// only slower, on a platform that gives none, since <c>started.{a}</c> and the status objects in storage carry the
/// same facts. Implementations are called from any thread and must return at once.
/// </summary>
public interface ICallHints
{
    /// <summary>A worker took attempt <paramref name="attempt"/> of call <paramref name="callIndex"/>: its deadline starts now.</summary>
    void Started(int callIndex, int attempt);

    /// <summary>
    /// The attempt ended and wrote its outcome. <paramref name="outcome"/> holds the exact bytes of the object it wrote
    /// (the <c>status</c> it created, or its <c>failed.{a}</c> record), or <see langword="null"/> when the executor
    /// should read storage (for example the attempt lost the create-only race to another one).
    /// </summary>
    void Finished(int callIndex, int attempt, byte[]? outcome);

    /// <summary>The attempt ended without writing an outcome (its worker died, was killed at the deadline, or was never started).</summary>
    void Lost(int callIndex, int attempt, string reason);
}

/// <summary>A compute backend that gives <see cref="ICallHints"/>.</summary>
public interface IHintingComputeBackend : IComputeBackend
{
    /// <summary>
    /// Whether the backend reports <see cref="ICallHints.Started"/> for every attempt it accepts, and
    /// <see cref="ICallHints.Lost"/> for every one it drops. Then an attempt waiting in the backend's own queue is
    /// not held to the executor's start bound (<c>Job:StartTimeoutSeconds</c>): the backend answers for it.
    /// </summary>
    bool ReportsEveryAttempt { get; }

    /// <summary>Starts sending hints about job <paramref name="jobId"/>; dispose the result to stop.</summary>
    IDisposable Subscribe(string jobId, ICallHints hints);
}

/// <summary>A compute backend that can stop a job's queued and running attempts early (the executor works without it).</summary>
public interface ICancellingComputeBackend : IComputeBackend
{
    /// <summary>Drops the job's queued attempts and signals its running ones (their <see cref="RemoteContext.CancellationToken"/>).</summary>
    ValueTask CancelJobAsync(string jobId, CancellationToken cancellationToken = default);
}
