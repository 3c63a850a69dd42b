using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>What reaches a job's loop from other threads.</summary>
internal enum JobEventKind
{
    /// <summary>The platform accepted an attempt.</summary>
    Invoked,

    /// <summary>The platform refused an attempt for good.</summary>
    InvokeFailed,

    /// <summary>An attempt was not sent (its call had ended, or the job was cancelled).</summary>
    Dropped,

    /// <summary>A hint: an attempt started.</summary>
    Started,

    /// <summary>A hint: an attempt ended and wrote its outcome.</summary>
    Finished,

    /// <summary>A hint: an attempt ended without an outcome.</summary>
    Lost,

    /// <summary>The job is cancelled.</summary>
    Cancel,

    /// <summary>Every input of a call held back for them has an outcome (<see cref="InputGate"/>).</summary>
    InputsReady,

    /// <summary>The job stops here as if its client were killed (tests): see <see cref="JobRunner.Abandon"/>.</summary>
    Abandon,
}

/// <summary>One thing that happened to an attempt (or the job), for the job's loop.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="CallIndex">The call.</param>
/// <param name="Attempt">Its attempt.</param>
/// <param name="Detail">Why, for a failure or a loss.</param>
/// <param name="Bytes">The status the worker wrote, when a hint carries it.</param>
/// <param name="At">For <see cref="JobEventKind.Invoked"/>: when the platform accepted the attempt.</param>
/// <param name="Slot">For <see cref="JobEventKind.Invoked"/>: the attempt's launch slot.</param>
/// <param name="Position">For <see cref="JobEventKind.Invoked"/>: the attempt's place in its invocation's batch (0 for the first or only call).</param>
internal readonly record struct JobEvent(JobEventKind Kind, int CallIndex, int Attempt, string? Detail = null, byte[]? Bytes = null, DateTimeOffset At = default, int Slot = -1, int Position = 0)
{
    /// <summary>Whether the event ends an attempt that was in flight.</summary>
    public bool EndsAttempt => Kind is JobEventKind.Finished or JobEventKind.Lost or JobEventKind.InvokeFailed or JobEventKind.Dropped;
}

/// <summary>A job's inbox: the backend's hints (it is the job's <see cref="ICallHints"/>), the launcher's answers, cancellation.</summary>
internal sealed class JobEvents : ICallHints
{
    private readonly Channel<JobEvent> _channel = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });

    public void Post(JobEvent e) => _channel.Writer.TryWrite(e);

    public bool TryRead(out JobEvent e) => _channel.Reader.TryRead(out e);

    public bool Waiting => _channel.Reader.TryPeek(out _);

    /// <summary>Waits until an event arrives or <paramref name="wait"/> passes on <paramref name="time"/>.</summary>
    public async Task WaitAsync(TimeSpan wait, TimeProvider time)
    {
        using var timer = new CancellationTokenSource(wait, time);
        try
        {
            await _channel.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// After the loop: reads events for at most <paramref name="limit"/> until <paramref name="live"/> attempts in flight
    /// have ended, and returns how many are still in flight.
    /// </summary>
    public async Task<int> DrainAsync(int live, TimeProvider time, TimeSpan limit)
    {
        DateTimeOffset until = time.GetUtcNow() + limit;
        while (live > 0 && time.GetUtcNow() < until)
        {
            while (TryRead(out JobEvent e))
            {
                live -= e.EndsAttempt ? 1 : 0;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), time).ConfigureAwait(false);
        }

        return live;
    }

    void ICallHints.Started(int callIndex, int attempt) => Post(new JobEvent(JobEventKind.Started, callIndex, attempt));

    void ICallHints.Finished(int callIndex, int attempt, byte[]? outcome) => Post(new JobEvent(JobEventKind.Finished, callIndex, attempt, Bytes: outcome));

    void ICallHints.Lost(int callIndex, int attempt, string reason) => Post(new JobEvent(JobEventKind.Lost, callIndex, attempt, reason));
}
