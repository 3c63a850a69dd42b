using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;

namespace Neutral;

/// <summary>One call of a job: awaitable for its result, with its state and statistics.</summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// A job keeps its calls' states, results and statistics packed in arrays; a future is made when the application asks
/// for one (<see cref="RemoteJob{T}.this[int]"/>, <see cref="RemoteJob{T}.Futures"/>), and reads them there. A job of a
/// million calls whose results are read with <see cref="RemoteJob{T}.GetResultsAsync"/> makes none.
/// </remarks>
public sealed class RemoteFuture<T>
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResultSink<T> _sink;

    internal RemoteFuture(ResultSink<T> sink, int callIndex)
    {
        _sink = sink;
        CallIndex = callIndex;
    }

    /// <summary>The job.</summary>
    public string JobId => _sink.JobId;

    /// <summary>The call's index in its job.</summary>
    public int CallIndex { get; }

    /// <summary>Where the call is.</summary>
    public RemoteCallState State => _sink.StateOf(CallIndex);

    /// <summary>Timestamps, attempt, cold start, bytes and host.</summary>
    public CallStats Stats => _sink.StatsOf(CallIndex);

    /// <summary>The result as a task (faults with <see cref="RemoteException"/>; cancelled with the job).</summary>
    public Task<T> Task => _completion.Task;

    /// <summary>Whether the call has an outcome (succeeded, failed or cancelled).</summary>
    public bool IsCompleted => _completion.Task.IsCompleted;

    /// <summary>The result, once <see cref="State"/> is <see cref="RemoteCallState.Succeeded"/>.</summary>
    /// <exception cref="InvalidOperationException">The call has not succeeded.</exception>
    public T Result => State == RemoteCallState.Succeeded
        ? _sink.ResultOf(CallIndex)
        : throw new InvalidOperationException($"Call {CallIndex} of job {JobId} is {State}, so it has no result.");

    /// <summary>The failure, once <see cref="State"/> is <see cref="RemoteCallState.Failed"/>.</summary>
    public RemoteException? Exception => State == RemoteCallState.Failed ? _sink.FailureOf(CallIndex) : null;

    /// <summary>Awaits the result.</summary>
    public TaskAwaiter<T> GetAwaiter() => _completion.Task.GetAwaiter();

    /// <summary>Completes the task from the call's final state, if it has one (from either side: idempotent).</summary>
    internal void Complete()
    {
        switch (State)
        {
            case RemoteCallState.Succeeded:
                _completion.TrySetResult(_sink.ResultOf(CallIndex));
                break;
            case RemoteCallState.Failed:
                _completion.TrySetException(_sink.FailureOf(CallIndex)!);
                break;
            case RemoteCallState.Cancelled:
                _completion.TrySetCanceled();
                break;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"call {CallIndex} of job {JobId}: {State}";
}
