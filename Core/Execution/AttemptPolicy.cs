using System;
using System.Collections.Generic;

namespace Neutral.Execution;

/// <summary>What the attempt policy says of a call's newest attempt.</summary>
internal enum AttemptVerdict
{
    /// <summary>Nothing to do.</summary>
    None,

    /// <summary>
    /// Accepted by the platform but not started within <c>Job:StartTimeoutSeconds</c> (plus a timeout for each call
    /// before it in its invocation): lost, retry.
    /// </summary>
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

    /// <summary>The job's batch sizer, told each succeeded call's run time (<c>Job:CallsPerInvocation=auto</c>).</summary>
    public BatchSizer? Sizer { get; init; }

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
            // Behind others in its invocation's batch, an attempt starts when they have run: each up to its timeout.
            TimeSpan bound = state.Position == 0 ? _startBound : _startBound + state.Position * (timeout + Grace(timeout));
            return !_backendAnswersForQueue && now - invoked > bound ? AttemptVerdict.NeverStarted : AttemptVerdict.None;
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

    /// <summary>
    /// A median of positive durations kept in a histogram of logarithmic buckets (2 % apart, from 0.1 ms to a day): fixed
    /// memory whatever the job's size, O(1) per value, and within 2 % of the true median, which is all speculation
    /// needs. The median is worked out again only when values were added since.
    /// </summary>
    internal sealed class RunningMedian
    {
        private const double Smallest = 1e-4;
        private static readonly double Step = Math.Log(1.02);
        private readonly int[] _counts = new int[(int)Math.Ceiling(Math.Log(86_400 / Smallest) / Step) + 2];
        private double _median;
        private bool _stale;

        public int Count { get; private set; }

        public double Median
        {
            get
            {
                if (_stale)
                {
                    _median = Find();
                    _stale = false;
                }

                return _median;
            }
        }

        public void Add(double seconds)
        {
            int bucket = seconds <= Smallest ? 0 : Math.Min(_counts.Length - 1, 1 + (int)(Math.Log(seconds / Smallest) / Step));
            _counts[bucket]++;
            Count++;
            _stale = true;
        }

        private double Find()
        {
            long half = (Count + 1) / 2;
            long seen = 0;
            for (int bucket = 0; bucket < _counts.Length; bucket++)
            {
                seen += _counts[bucket];
                if (seen >= half)
                {
                    // The bucket's middle: values in bucket b lie in [Smallest * 1.02^(b-1), Smallest * 1.02^b).
                    return bucket == 0 ? Smallest / 2 : Smallest * Math.Exp((bucket - 0.5) * Step);
                }
            }

            return 0;
        }
    }
}
