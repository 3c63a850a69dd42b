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
/// <para>
/// A future is a <see cref="RemoteRef{T}"/>: pass it to a generated stub wherever the method takes a
/// <typeparamref name="T"/>, and the dependent call is launched once this one has succeeded, its worker reading the
/// result from storage. A job whose futures were passed so leaves its results that are too large for their status in
/// storage until the application asks for them (<see cref="Task"/>, awaiting, <see cref="Result"/>,
/// <see cref="RemoteJob{T}.GetResultsAsync"/>), and keeps its data until the calls that read it have ended and those
/// results have been read, or the cloud is disposed.
/// </para>
/// </remarks>
public sealed class RemoteFuture<T> : RemoteRef<T>, IProducingCall
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResultSink<T> _sink;
    private int _wanted;
    private int _loading;

    internal RemoteFuture(ResultSink<T> sink, int callIndex)
    {
        _sink = sink;
        CallIndex = callIndex;
    }

    /// <summary>The job.</summary>
    public override string JobId => _sink.JobId;

    /// <summary>The call's index in its job.</summary>
    public override int CallIndex { get; }

    /// <summary>The call's function id.</summary>
    public override string FunctionId => _sink.FunctionOf(CallIndex).Id;

    /// <summary>Where the call is.</summary>
    public RemoteCallState State => _sink.StateOf(CallIndex);

    /// <summary>Timestamps, attempt, cold start, bytes and host.</summary>
    public CallStats Stats => _sink.StatsOf(CallIndex);

    /// <summary>
    /// The result as a task (faults with <see cref="RemoteException"/>; cancelled with the job). A result left in
    /// storage for other calls is read when this is first asked for.
    /// </summary>
    public Task<T> Task
    {
        get
        {
            // A full fence between the write and the read, as in Complete: one side or the other starts the load.
            Interlocked.Exchange(ref _wanted, 1);
            if (State == RemoteCallState.Succeeded && _sink.IsDeferred(CallIndex))
            {
                Load();
            }

            return _completion.Task;
        }
    }

    /// <summary>Whether the call has an outcome (succeeded, failed or cancelled).</summary>
    public bool IsCompleted => State is not (RemoteCallState.Pending or RemoteCallState.Running);

    /// <summary>Completes when the call has an outcome, without reading a result left in storage (a dependent call's gate).</summary>
    Task IProducingCall.Ended => _ended.Task;

    /// <summary>The job's holds: a dependent call keeps the job's data while it may read it.</summary>
    JobHolds IProducingCall.Holds => _sink.Holds;

    /// <summary>
    /// Takes the result for a call being made with this future as an argument: the value, when this process holds it;
    /// else a hold on the job's data, kept until the job that runs the call ends.
    /// </summary>
    /// <exception cref="InvalidOperationException">The job's data was deleted with its result unread.</exception>
    public override bool TryTake(out T value)
    {
        if (_sink.TryGetHeld(CallIndex, out value))
        {
            return true;
        }

        if (_sink.Holds.TryAcquire())
        {
            return false;
        }

        // The job's cleanup has begun. Its calls have all ended: a failed or cancelled one fails the dependent call at
        // its launch, a succeeded one's value is here unless it was left in storage, which is now being deleted.
        if (State is RemoteCallState.Failed or RemoteCallState.Cancelled || _sink.TryGetHeld(CallIndex, out value))
        {
            return State == RemoteCallState.Succeeded;
        }

        throw new InvalidOperationException(
            $"Call {CallIndex} of job {JobId} left its result in storage for the calls that took it, and the job's data has been deleted since (the Cloud was disposed).");
    }

    /// <summary>The result, once <see cref="State"/> is <see cref="RemoteCallState.Succeeded"/>.</summary>
    /// <exception cref="InvalidOperationException">The call has not succeeded.</exception>
    public T Result => State == RemoteCallState.Succeeded
        ? _sink.ResultOf(CallIndex)
        : throw new InvalidOperationException($"Call {CallIndex} of job {JobId} is {State}, so it has no result.");

    /// <summary>The failure, once <see cref="State"/> is <see cref="RemoteCallState.Failed"/>.</summary>
    public RemoteException? Exception => State == RemoteCallState.Failed ? _sink.FailureOf(CallIndex) : null;

    /// <summary>Awaits the result.</summary>
    public TaskAwaiter<T> GetAwaiter() => Task.GetAwaiter();

    /// <summary>Completes the task from the call's final state, if it has one (from either side: idempotent).</summary>
    internal void Complete()
    {
        switch (State)
        {
            case RemoteCallState.Succeeded:
                if (!_sink.IsDeferred(CallIndex))
                {
                    _completion.TrySetResult(_sink.ResultOf(CallIndex));
                }
                else if (Interlocked.CompareExchange(ref _wanted, 0, 0) == 1)
                {
                    Load();
                }

                _ended.TrySetResult();
                break;
            case RemoteCallState.Failed:
                _completion.TrySetException(_sink.FailureOf(CallIndex)!);
                _ended.TrySetResult();
                break;
            case RemoteCallState.Cancelled:
                _completion.TrySetCanceled();
                _ended.TrySetResult();
                break;
        }
    }

    /// <summary>Reads the result left in storage, once, into the task.</summary>
    private void Load()
    {
        if (Interlocked.Exchange(ref _loading, 1) != 0)
        {
            return;
        }

        _ = _sink.LoadAsync(CallIndex).ContinueWith(static (t, state) =>
        {
            var completion = (TaskCompletionSource<T>)state!;
            if (t.IsFaulted)
            {
                completion.TrySetException(t.Exception!.InnerExceptions);
            }
            else
            {
                completion.TrySetResult(t.Result);
            }
        }, _completion, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <inheritdoc/>
    public override string ToString() => $"call {CallIndex} of job {JobId}: {State}";
}
