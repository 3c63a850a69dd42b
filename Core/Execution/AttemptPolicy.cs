using System;
using System.Collections.Generic;

namespace Neutral.Execution;

/// <summary>What the attempt policy says of a call's newest attempt.</summary>
internal enum AttemptVerdict
{
    /// <summary>Nothing to do.</summary>
    None,

    /// <summary>Accepted by the platform but not started within <c>Job:StartTimeoutSeconds</c>: lost, retry.</summary>
    NeverStarted,

    /// <summary>Started, and no outcome by its deadline (plus grace): retry.</summary>
    PastDeadline,

    /// <summary>A straggler: launch a speculative backup.</summary>
    Backup,
}

/// <summary>
/// Deadlines and speculation, as pure functions of a call's state and the time: an attempt's deadline counts from its
/// start (seen in storage or hinted), a separate bound covers an attempt that never starts, and a straggler gets one
/// backup once 90 % of the job is done and it has run more than three times the median.
/// </summary>
internal sealed class AttemptPolicy
{
    private readonly TimeSpan _startBound;
    private readonly bool _backendAnswersForQueue;
    private readonly bool _speculation;
    private readonly RunningMedian _durations = new();

    public AttemptPolicy(TimeSpan startBound, bool backendAnswersForQueue, bool speculation)
    {
        _startBound = startBound;
        _backendAnswersForQueue = backendAnswersForQueue;
        _speculation = speculation;
    }

    /// <summary>The grace past a deadline before an attempt counts as lost (the worker's own deadline fires first).</summary>
    public static TimeSpan Grace(TimeSpan timeout) => TimeSpan.FromSeconds(Math.Max(1, timeout.TotalSeconds * 0.05));

    /// <summary>The median run time of the calls done so far, if any.</summary>
    public TimeSpan? Median => _durations.Count == 0 ? null : TimeSpan.FromSeconds(_durations.Median);

    /// <summary>Records how long a call took from its start to its outcome.</summary>
    public void RecordDuration(TimeSpan duration) => _durations.Add(Math.Max(0, duration.TotalSeconds));

    /// <summary>Judges call <paramref name="state"/>'s newest attempt at <paramref name="now"/>.</summary>
    public AttemptVerdict Judge(CallState state, TimeSpan timeout, DateTimeOffset now, int done, int total)
    {
        if (state.Done || state.InvokedAt is not { } invoked)
        {
            return AttemptVerdict.None;
        }

        if (state.StartedAt is not { } started)
        {
            return !_backendAnswersForQueue && now - invoked > _startBound ? AttemptVerdict.NeverStarted : AttemptVerdict.None;
        }

        if (now - started > timeout + Grace(timeout))
        {
            return AttemptVerdict.PastDeadline;
        }

        if (_speculation && !state.Speculated && total >= 2 && done >= 0.9 * total && _durations.Count > 0
            && (now - started).TotalSeconds > Math.Max(3 * _durations.Median, 0.2))
        {
            return AttemptVerdict.Backup;
        }

        return AttemptVerdict.None;
    }

    /// <summary>A median kept in two heaps: O(log n) per value, no re-sort per tick.</summary>
    private sealed class RunningMedian
    {
        private readonly PriorityQueue<double, double> _low = new(Comparer<double>.Create((a, b) => b.CompareTo(a)));
        private readonly PriorityQueue<double, double> _high = new();

        public int Count => _low.Count + _high.Count;

        public double Median => _low.Count >= _high.Count ? _low.Peek() : _high.Peek();

        public void Add(double value)
        {
            if (_low.Count == 0 || value <= _low.Peek())
            {
                _low.Enqueue(value, value);
            }
            else
            {
                _high.Enqueue(value, value);
            }

            if (_low.Count > _high.Count + 1)
            {
                double moved = _low.Dequeue();
                _high.Enqueue(moved, moved);
            }
            else if (_high.Count > _low.Count + 1)
            {
                double moved = _high.Dequeue();
                _low.Enqueue(moved, moved);
            }
        }
    }
}
