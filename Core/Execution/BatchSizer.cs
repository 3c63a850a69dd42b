using System;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>
/// How many calls the launcher puts in its next invocation (<c>Job:CallsPerInvocation</c>): the number set, or with
/// <c>auto</c> a number chosen from the calls' run times as their workers measured them. The first
/// <see cref="Probe"/> invocations carry one call each; the others wait until that many calls have succeeded (or
/// <see cref="ProbeWait"/> has passed), then carry as many calls as their median run time fills in
/// <see cref="Target"/>. The monitor task records run times; the launcher's pumps ask from any thread.
/// </summary>
internal sealed class BatchSizer
{
    /// <summary>Single-call invocations sent, and succeeded calls measured, before the first batch.</summary>
    internal const int Probe = 8;

    /// <summary>
    /// How long after the first probe the choice waits for <see cref="Probe"/> calls to succeed: calls that take longer
    /// (or a platform that starts them that slowly) gain nothing from batching, and go one an invocation until run
    /// times say otherwise.
    /// </summary>
    internal static readonly TimeSpan ProbeWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long an automatic batch should run: long enough that an invocation's own cost (an invoke request of tens of
    /// milliseconds, a cold start of a few hundred) is a tenth of its time or less, short enough that a batch's last
    /// call starts soon after its first.
    /// </summary>
    internal static readonly TimeSpan Target = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The invocations an automatic choice leaves the job, at least: batching never makes a job narrower than the
    /// platform could run it (1,000 is Lambda's default account concurrency).
    /// </summary>
    internal const int Parallelism = 1000;

    private readonly int _fixed;
    private readonly int _widest;
    private readonly TimeProvider _time;
    private readonly AttemptPolicy.RunningMedian _runTimes = new();
    private readonly TaskCompletionSource _decided = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _chosen = 1;
    private int _probes;

    /// <param name="setting"><c>Job:CallsPerInvocation</c>: 1 to 1,000, or <see cref="JobOptions.AutomaticCallsPerInvocation"/>.</param>
    /// <param name="calls">The job's calls.</param>
    /// <param name="time">The clock for <see cref="ProbeWait"/>.</param>
    public BatchSizer(int setting, int calls, TimeProvider time)
    {
        _fixed = setting == JobOptions.AutomaticCallsPerInvocation ? 0 : Math.Clamp(setting, 1, JobOptions.MaxCallsPerInvocation);
        _widest = Math.Max(1, (int)Math.Min(JobOptions.MaxCallsPerInvocation, ((long)calls + Parallelism - 1) / Parallelism));
        _time = time;
        if (Automatic && _widest == 1)
        {
            // A thousand calls or fewer: one each whatever they take, and nothing to wait for.
            _decided.TrySetResult();
        }
    }

    /// <summary>A sizer for one call an invocation.</summary>
    public static BatchSizer One { get; } = new(1, 1, TimeProvider.System);

    /// <summary>Whether the number is chosen from run times.</summary>
    public bool Automatic => _fixed == 0;

    /// <summary>The most calls an invocation of this job may carry.</summary>
    public int Most => Automatic ? _widest : _fixed;

    /// <summary>Calls an invocation carries now (1 until the probe has measured enough).</summary>
    public int Current => Automatic ? Math.Min(Volatile.Read(ref _chosen), _widest) : _fixed;

    /// <summary>
    /// Before an invocation is gathered: true for one of the first <see cref="Probe"/>, which carry one call; the others
    /// wait until the choice is made (any thread).
    /// </summary>
    public ValueTask<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        if (!Automatic || _decided.Task.IsCompleted)
        {
            return new(false);
        }

        int probe = Interlocked.Increment(ref _probes);
        if (probe <= Probe)
        {
            if (probe == 1)
            {
                _ = DecideLaterAsync();
            }

            return new(true);
        }

        return WaitAsync(cancellationToken);
    }

    /// <summary>A succeeded call ran <paramref name="runTime"/> in its worker (monitor task only).</summary>
    public void Record(TimeSpan runTime)
    {
        if (!Automatic || _widest == 1)
        {
            return;
        }

        _runTimes.Add(Math.Max(0, runTime.TotalSeconds));
        int count = _runTimes.Count;
        // The median is a scan of the histogram: worked out at the probe's end, then every 256 calls.
        if (count == Probe || (count > Probe && count % 256 == 0))
        {
            Volatile.Write(ref _chosen, For(TimeSpan.FromSeconds(_runTimes.Median)));
            _decided.TrySetResult();
        }
    }

    /// <summary>Calls of median run time <paramref name="median"/> that fill <see cref="Target"/>, from 1 to 1,000.</summary>
    internal static int For(TimeSpan median)
    {
        double seconds = Math.Max(median.TotalSeconds, 1e-4);
        return (int)Math.Clamp(Math.Floor(Target.TotalSeconds / seconds), 1, JobOptions.MaxCallsPerInvocation);
    }

    private async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        await _decided.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return false;
    }

    private async Task DecideLaterAsync()
    {
        await Task.Delay(ProbeWait, _time).ConfigureAwait(false);
        _decided.TrySetResult();
    }
}
