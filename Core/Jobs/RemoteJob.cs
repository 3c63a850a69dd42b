using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Neutral.Execution;

namespace Neutral;

/// <summary>
/// A submitted job: its calls' futures in order, ways to wait for them, cancellation, progress and a timeline.
/// Create it with <see cref="Cloud.Submit{T}"/>.
/// </summary>
/// <typeparam name="T">The calls' result type.</typeparam>
public sealed class RemoteJob<T>
{
    private readonly JobRunner _runner;
    private readonly ResultSink<T> _results;
    private readonly FutureList _futures;

    internal RemoteJob(JobRunner runner, ResultSink<T> results)
    {
        _runner = runner;
        _results = results;
        _futures = new FutureList(results);
        _raise = progress => Volatile.Read(ref _progress)?.Invoke(this, progress);
    }

    private EventHandler<JobProgress>? _progress;
    private readonly Action<JobProgress> _raise;

    /// <summary>
    /// Whether this client drives the job: launches its attempts, retries, speculates and cleans up. False for a client
    /// attached with <see cref="Cloud.AttachAsync{T}"/> while another drives it (it takes over when that one's lease
    /// expires), and for the submitting client once another has taken over.
    /// </summary>
    public bool Driving => _runner.Driving;

    /// <summary>The runner (tests).</summary>
    internal JobRunner Runner => _runner;

    /// <summary>The job's id (its folder in storage: <c>jobs/{JobId}/</c>).</summary>
    public string JobId => _runner.JobId;

    /// <summary>The number of calls.</summary>
    public int Count => _results.Count;

    /// <summary>The future of call <paramref name="index"/>.</summary>
    public RemoteFuture<T> this[int index] => (uint)index < (uint)_results.Count
        ? _results.Future(index)
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"Job {JobId} has {_results.Count} calls.");

    /// <summary>The futures, in call order.</summary>
    public IReadOnlyList<RemoteFuture<T>> Futures => _futures;

    /// <summary>
    /// Raised as calls start running and get their outcomes, on a task of its own: a slow handler sees fewer, newer snapshots and never
    /// holds the job up; an exception it throws is logged and counted (<see cref="ProgressHandlerErrors"/>).
    /// </summary>
    public event EventHandler<JobProgress>? Progress
    {
        add
        {
            // Snapshots are only made and dispatched while someone listens: a job without handlers spends nothing on them.
            EventHandler<JobProgress>? seen;
            do
            {
                seen = Volatile.Read(ref _progress);
            }
            while (Interlocked.CompareExchange(ref _progress, (EventHandler<JobProgress>?)Delegate.Combine(seen, value), seen) != seen);
            _runner.Progress.Raise = Volatile.Read(ref _progress) is null ? null : _raise;
        }

        remove
        {
            EventHandler<JobProgress>? seen;
            do
            {
                seen = Volatile.Read(ref _progress);
            }
            while (Interlocked.CompareExchange(ref _progress, (EventHandler<JobProgress>?)Delegate.Remove(seen, value), seen) != seen);
            _runner.Progress.Raise = Volatile.Read(ref _progress) is null ? null : _raise;
        }
    }

    /// <summary>How many times a <see cref="Progress"/> handler threw.</summary>
    public int ProgressHandlerErrors => _runner.Progress.HandlerErrors;

    /// <summary>The counts now.</summary>
    public JobProgress Current => _runner.Snapshot;

    /// <summary>Every call's timestamps, for plots (see <see cref="JobTimeline.ToSvg"/>).</summary>
    public JobTimeline Timeline => new(JobId, Enumerable.Range(0, _results.Count).Select(_results.StatsOf).ToArray(), Enumerable.Range(0, _results.Count).Select(_results.StateOf).ToArray());

    /// <summary>
    /// What the job costs on its platform so far, in US dollars, from the measured worker time of each call, the
    /// attempts started and the storage requests the protocol makes per call, at the provider's price table (0 on the
    /// local provider). An estimate: attempts lost without a status and the client's listings are not in it.
    /// </summary>
    public decimal EstimatedCost => _runner.EstimatedCost;

    /// <summary>What the job used so far (calls, attempts started, worker milliseconds), the basis of <see cref="EstimatedCost"/>.</summary>
    public JobUsage Usage => _runner.Usage;

    /// <summary>Completes when every call has an outcome and the job's data has been cleaned from storage.</summary>
    public Task Completion => _runner.Completion;

    /// <summary>Waits until all calls, any call, or a share of them have an outcome (failures included).</summary>
    public Task WaitAsync(ReturnWhen when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(when);
        return _runner.WaitAsync(when, cancellationToken);
    }

    /// <summary>The futures in the order their calls finish.</summary>
    public async IAsyncEnumerable<RemoteFuture<T>> AsCompleted([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var finished = Channel.CreateUnbounded<RemoteFuture<T>>();
        foreach (RemoteFuture<T> future in _futures)
        {
            _ = future.Task.ContinueWith(static (_, state) =>
            {
                var (channel, f) = ((Channel<RemoteFuture<T>>, RemoteFuture<T>))state!;
                channel.Writer.TryWrite(f);
            }, (finished, future), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        for (int i = 0; i < Count; i++)
        {
            yield return await finished.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for every call and returns the results in call order.</summary>
    /// <exception cref="RemoteJobException">Some calls failed: holds every failure and the partial results.</exception>
    /// <exception cref="OperationCanceledException">The job was cancelled.</exception>
    public async Task<T[]> GetResultsAsync(CancellationToken cancellationToken = default)
    {
        await WaitAsync(ReturnWhen.All, cancellationToken).ConfigureAwait(false);
        ResultSink<T> sink = _results;
        // Results left in storage for the calls that took them (the job feeds others) are read now, a few at a time.
        await sink.LoadAllAsync(cancellationToken).ConfigureAwait(false);
        var states = new RemoteCallState[sink.Count];
        List<RemoteException>? failures = null;
        bool cancelled = false;
        for (int i = 0; i < states.Length; i++)
        {
            states[i] = sink.StateOf(i);
            if (states[i] == RemoteCallState.Failed)
            {
                (failures ??= []).Add(sink.FailureOf(i)!);
            }

            cancelled |= states[i] == RemoteCallState.Cancelled;
        }

        if (failures is not null)
        {
            throw new RemoteJobException(JobId, Count, failures,
                states.Select((s, i) => s == RemoteCallState.Succeeded ? (object?)sink.ResultOf(i) : null).ToArray(),
                states.Select(s => s == RemoteCallState.Succeeded).ToArray());
        }

        if (cancelled)
        {
            throw new OperationCanceledException($"Job {JobId} was cancelled.");
        }

        var results = new T[states.Length];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = sink.ResultOf(i);
        }

        // The job's data is being deleted in the background (unless Job:KeepData); Completion says when it is gone.
        return results;
    }

    /// <summary>
    /// Stops the job: no new attempts start, pending calls become <see cref="RemoteCallState.Cancelled"/>, and
    /// running calls see their <see cref="RemoteContext.CancellationToken"/> fire. Completes once the calls are marked
    /// cancelled; the job's data is removed in the background (<see cref="Completion"/> says when).
    /// </summary>
    public Task CancelAsync() => _runner.CancelAsync();

    /// <summary>The futures as a list, each made on first use.</summary>
    private sealed class FutureList(ResultSink<T> results) : IReadOnlyList<RemoteFuture<T>>
    {
        public RemoteFuture<T> this[int index] => (uint)index < (uint)results.Count
            ? results.Future(index)
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"Job {results.JobId} has {results.Count} calls.");

        public int Count => results.Count;

        public IEnumerator<RemoteFuture<T>> GetEnumerator()
        {
            for (int i = 0; i < results.Count; i++)
            {
                yield return results.Future(i);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
