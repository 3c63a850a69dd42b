using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Testing;

/// <summary>
/// A compute platform in the test process, as a cloud looks to the executor: no hints at all (storage is the only
/// signal), calls run through the real worker call loop (<see cref="CallRunner"/>) against the store, with platform
/// queueing, cold starts, a concurrency limit answered with throttling, lost invocations and duplicate deliveries.
/// Delays run on the given clock, so tests drive it with a fake one.
/// </summary>
public sealed class SimulatedCloud : ISelfInvokingComputeBackend
{
    private readonly IObjectStore _store;
    private readonly TimeProvider _time;
    private readonly CallRunner _runner;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private int _active;
    private int _invocations;
    private int _throttled;
    private int _lost;
    private int _duplicates;
    private int _warm;
    private TimeSpan _skew;
    private CallRunner[]? _skewed;
    private readonly Func<InvocationEnvelope, CancellationToken, Task<CallOutcome>> _launch;
    private static readonly AsyncLocal<LauncherLife?> s_launcher = new();

    /// <summary>Creates the platform.</summary>
    /// <param name="store">The store workers read and write (the same one the client uses).</param>
    /// <param name="location">Where the client says the store is.</param>
    /// <param name="time">The clock every delay runs on.</param>
    /// <param name="seed">The seed of the platform's dice.</param>
    public SimulatedCloud(IObjectStore store, StoreLocation location, TimeProvider time, int seed = 7)
    {
        _store = store;
        _time = time;
        Store = location;
        _random = new Random(seed);
        _launch = CloudLaunch.Handler(_ => _store, () => new LauncherInvoker(this), time);
        _runner = new CallRunner(_ => _store, "simulated", time) { LaunchHandler = _launch };
    }

    /// <summary>Always null: the simulated platform's workers invoke it as its client does (<c>Job:InvokeFrom=cloud</c>).</summary>
    public string? SelfInvokeRefusal => null;

    /// <summary>
    /// Kills launcher calls (<c>Job:InvokeFrom=cloud</c>): given a launcher call's envelope (its <c>Attempt</c> is the
    /// launcher's number), how many invocations it gets out before its process dies, or null for one that lives. A dead
    /// launcher invokes nothing more and records nothing: the client learns of it only from its attempts' start bound.
    /// </summary>
    public Func<InvocationEnvelope, int?>? LauncherDeath { get; set; }

    /// <summary>Launcher calls that ran (<c>Job:InvokeFrom=cloud</c>).</summary>
    public int Launchers => Volatile.Read(ref _launchers);

    /// <summary>Launcher calls that died (<see cref="LauncherDeath"/>).</summary>
    public int LaunchersDied => Volatile.Read(ref _launchersDied);

    private int _launchers;
    private int _launchersDied;

    /// <summary>A launcher call's process: how many more invocations it sends before it dies.</summary>
    private sealed class LauncherLife(int left, CancellationTokenSource death)
    {
        private int _left = left;

        public CancellationTokenSource Death { get; } = death;

        public bool Dies() => Interlocked.Decrement(ref _left) < 0;
    }

    /// <summary>What a launcher call invokes through: the platform itself, and the launcher's death when its time comes.</summary>
    private sealed class LauncherInvoker(SimulatedCloud cloud) : IComputeBackend
    {
        public string Name => cloud.Name;

        public StoreLocation Store => cloud.Store;

        public ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
        {
            if (s_launcher.Value is { } life && life.Dies())
            {
                if (!life.Death.IsCancellationRequested)
                {
                    Interlocked.Increment(ref cloud._launchersDied);
                    life.Death.Cancel();
                }

                return ValueTask.FromCanceled(life.Death.Token);
            }

            return cloud.InvokeAsync(envelope, cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public string Name => "simulated";

    /// <inheritdoc/>
    public StoreLocation Store { get; }

    /// <summary>How long an accepted invocation waits before a worker takes it.</summary>
    public TimeSpan QueueDelay { get; set; }

    /// <summary>The extra start-up time of a worker's first call (the first <see cref="WarmWorkers"/> calls are cold).</summary>
    public TimeSpan ColdStart { get; set; }

    /// <summary>How many workers are warm before cold starts stop; 0 means none is ever cold.</summary>
    public int WarmWorkers { get; set; }

    /// <summary>Invocations accepted at once (queued or running); more are refused with <see cref="ThrottledException"/>. 0: no limit.</summary>
    public int ConcurrencyLimit { get; set; }

    /// <summary>What a throttling answer says to wait.</summary>
    public TimeSpan? RetryAfter { get; set; }

    /// <summary>The share of accepted invocations that never run (0 to 1).</summary>
    public double LossRate { get; set; }

    /// <summary>The share of accepted invocations delivered twice (0 to 1).</summary>
    public double DuplicateRate { get; set; }

    /// <summary>Decides per envelope that it is lost (after the random loss), for targeted tests.</summary>
    public Func<InvocationEnvelope, bool>? Lose { get; set; }

    /// <summary>
    /// Decides per envelope that the invoke fails with the returned exception before the platform takes it (nothing
    /// runs): a connection refused, say.
    /// </summary>
    public Func<InvocationEnvelope, Exception?>? Refuse { get; set; }

    /// <summary>
    /// Decides per envelope that the invoke fails with the returned exception after the platform took it (the call runs):
    /// an answer that never came back, say.
    /// </summary>
    public Func<InvocationEnvelope, Exception?>? LoseAnswer { get; set; }

    /// <summary>
    /// How far workers' clocks may be from the platform's: each call runs on a clock set off by a fixed amount between
    /// minus and plus this (by call index, over seven workers), as hosts whose clocks drift. Zero: one clock.
    /// </summary>
    public TimeSpan WorkerClockSkew
    {
        get => _skew;
        set
        {
            _skew = value;
            _skewed = value == TimeSpan.Zero ? null : Enumerable.Range(0, 7)
                .Select(k => new CallRunner(_ => _store, "simulated-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture), new SkewedClock(_time, value * ((k - 3) / 3.0))) { LaunchHandler = _launch })
                .ToArray();
        }
    }

    /// <summary>
    /// Wraps each run of the worker's call loop (its argument runs it): for example to measure the platform's own CPU
    /// time apart from the client's in one process.
    /// </summary>
    public Func<InvocationEnvelope, Func<Task>, Task>? AroundRun { get; set; }

    /// <summary>Runs before each call (for example to hold a call on a gate).</summary>
    public Func<InvocationEnvelope, CancellationToken, Task>? BeforeRun { get; set; }

    /// <summary>Invocations accepted.</summary>
    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>Invocations refused with throttling.</summary>
    public int Throttled => Volatile.Read(ref _throttled);

    /// <summary>Accepted invocations that never ran.</summary>
    public int Lost => Volatile.Read(ref _lost);

    /// <summary>Invocations delivered twice.</summary>
    public int Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Invocations queued or running now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <inheritdoc/>
    public ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        cancellationToken.ThrowIfCancellationRequested();
        if (Refuse?.Invoke(envelope) is { } refusal)
        {
            throw refusal;
        }

        bool lose, twice;
        lock (_lock)
        {
            if (ConcurrencyLimit > 0 && _active >= ConcurrencyLimit)
            {
                _throttled++;
                throw new ThrottledException($"Rate exceeded: {ConcurrencyLimit} concurrent invocations.", RetryAfter);
            }

            // Released outside the lock with Interlocked: taken the same way, or a decrement can be lost.
            Interlocked.Increment(ref _active);
            _invocations++;
            lose = _random.NextDouble() < LossRate;
            twice = !lose && _random.NextDouble() < DuplicateRate;
        }

        if (lose || Lose?.Invoke(envelope) == true)
        {
            Interlocked.Increment(ref _lost);
            Interlocked.Decrement(ref _active);
            return ValueTask.CompletedTask;
        }

        Track(RunAsync(envelope, release: true));
        if (twice)
        {
            Interlocked.Increment(ref _duplicates);
            Track(RunAsync(envelope, release: false));
        }

        return LoseAnswer?.Invoke(envelope) is { } lost ? ValueTask.FromException(lost) : ValueTask.CompletedTask;
    }

    private void Track(Task task)
    {
        _running[task] = 0;
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
    }

    private async Task RunAsync(InvocationEnvelope envelope, bool release)
    {
        try
        {
            CancellationToken stop = _stopping.Token;
            await Task.Yield();
            if (QueueDelay > TimeSpan.Zero)
            {
                await Task.Delay(QueueDelay, _time, stop).ConfigureAwait(false);
            }

            if (ColdStart > TimeSpan.Zero && Interlocked.Increment(ref _warm) <= WarmWorkers)
            {
                await Task.Delay(ColdStart, _time, stop).ConfigureAwait(false);
            }

            if (BeforeRun is { } before)
            {
                await before(envelope, stop).ConfigureAwait(false);
            }

            CallRunner runner = _skewed is { } skewed ? skewed[(envelope.CallIndex & int.MaxValue) % skewed.Length] : _runner;
            if (envelope.FunctionId == CallRunner.LaunchFunctionId)
            {
                Interlocked.Increment(ref _launchers);
                if (LauncherDeath?.Invoke(envelope) is { } lives)
                {
                    using var death = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    s_launcher.Value = new LauncherLife(lives, death);
                    await runner.RunAsync(envelope, death.Token).ConfigureAwait(false);
                    return;
                }
            }

            if (AroundRun is { } around)
            {
                await around(envelope, () => runner.RunAsync(envelope, stop)).ConfigureAwait(false);
            }
            else
            {
                await runner.RunAsync(envelope, stop).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // A worker that fails to write its outcome is a lost attempt: the executor finds out from storage.
        }
        finally
        {
            if (release)
            {
                Interlocked.Decrement(ref _active);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Stopped calls end with their token.
        }

        _stopping.Dispose();
    }
}

/// <summary>A clock set off from another by a fixed amount (timers and timestamps are the other's).</summary>
internal sealed class SkewedClock(TimeProvider inner, TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + offset;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => inner.CreateTimer(callback, state, dueTime, period);
}
