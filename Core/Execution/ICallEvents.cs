using System.Threading;
using System.Threading.Tasks;
using Neutral.Workers;

namespace Neutral.Execution;

/// <summary>
/// Hints a backend can give the executor about a job's calls (the local provider knows when a worker finishes or
/// dies). Hints only speed things up: the status object stays the one signal of completion.
/// </summary>
internal interface ICallEventSink
{
    /// <summary>The attempt was handed to a worker.</summary>
    void OnDispatched(int callIndex, int attempt);

    /// <summary>The worker finished the attempt (its status may or may not be the one that counts).</summary>
    void OnDone(CallOutcome outcome);

    /// <summary>The attempt was lost: the worker died or was killed at the deadline, and wrote no status.</summary>
    void OnLost(int callIndex, int attempt, string reason);
}

/// <summary>A backend that gives hints.</summary>
internal interface ICallEventSource
{
    void Subscribe(string jobId, ICallEventSink sink);

    void Unsubscribe(string jobId);
}

/// <summary>A backend that can stop a job's queued and running calls.</summary>
internal interface IJobCanceller
{
    ValueTask CancelJobAsync(string jobId, CancellationToken cancellationToken = default);
}
