using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral;

/// <summary>One call of a job: awaitable for its result, with its state and statistics.</summary>
/// <typeparam name="T">The result type.</typeparam>
public sealed class RemoteFuture<T>
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly DateTimeOffset _submitted;

    // Created when the call has news (a retry, its outcome), not per pending call: a record made at submit and replaced
    // at the end would outlive several collections and then die old, which is what bloats the heap of large maps.
    private CallStats? _stats;
    private int _state = (int)RemoteCallState.Pending;

    internal RemoteFuture(string jobId, int callIndex, DateTimeOffset submitted)
    {
        JobId = jobId;
        CallIndex = callIndex;
        _submitted = submitted;
    }

    /// <summary>The job.</summary>
    public string JobId { get; }

    /// <summary>The call's index in its job.</summary>
    public int CallIndex { get; }

    /// <summary>Where the call is.</summary>
    public RemoteCallState State => (RemoteCallState)Volatile.Read(ref _state);

    /// <summary>Timestamps, attempt, cold start, bytes and host.</summary>
    public CallStats Stats => Volatile.Read(ref _stats) ?? Initial();

    private CallStats Initial() => new() { Submitted = _submitted, Attempt = 1, AttemptsStarted = 1 };

    /// <summary>The result as a task (faults with <see cref="RemoteException"/>; cancelled with the job).</summary>
    public Task<T> Task => _completion.Task;

    /// <summary>Whether the call has an outcome (succeeded, failed or cancelled).</summary>
    public bool IsCompleted => _completion.Task.IsCompleted;

    /// <summary>The result, once <see cref="State"/> is <see cref="RemoteCallState.Succeeded"/>.</summary>
    /// <exception cref="InvalidOperationException">The call has not succeeded.</exception>
    public T Result => State == RemoteCallState.Succeeded
        ? _completion.Task.Result
        : throw new InvalidOperationException($"Call {CallIndex} of job {JobId} is {State}, so it has no result.");

    /// <summary>The failure, once <see cref="State"/> is <see cref="RemoteCallState.Failed"/>.</summary>
    public RemoteException? Exception => _completion.Task.IsFaulted ? _completion.Task.Exception!.InnerException as RemoteException : null;

    /// <summary>Awaits the result.</summary>
    public TaskAwaiter<T> GetAwaiter() => _completion.Task.GetAwaiter();

    internal void MarkRunning() => Interlocked.CompareExchange(ref _state, (int)RemoteCallState.Running, (int)RemoteCallState.Pending);

    internal void UpdateStats(Func<CallStats, CallStats> update)
    {
        // Compare-and-swap: updates from the monitor and the launcher never lose one another.
        CallStats? current = Volatile.Read(ref _stats);
        while (true)
        {
            CallStats updated = update(current ?? Initial());
            CallStats? seen = Interlocked.CompareExchange(ref _stats, updated, current);
            if (ReferenceEquals(seen, current))
            {
                return;
            }

            current = seen;
        }
    }

    // The state is set before the task completes, so a continuation of the task always sees the final state.
    private bool TryClaim(RemoteCallState final)
    {
        int state = Volatile.Read(ref _state);
        while (state is (int)RemoteCallState.Pending or (int)RemoteCallState.Running)
        {
            int seen = Interlocked.CompareExchange(ref _state, (int)final, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }

    internal bool TrySucceed(T value) => TryClaim(RemoteCallState.Succeeded) && _completion.TrySetResult(value);

    internal bool TryFail(RemoteException error) => TryClaim(RemoteCallState.Failed) && _completion.TrySetException(error);

    internal bool TryCancel() => TryClaim(RemoteCallState.Cancelled) && _completion.TrySetCanceled();

    /// <inheritdoc/>
    public override string ToString() => $"call {CallIndex} of job {JobId}: {State}";
}
