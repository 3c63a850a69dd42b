using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// Sends a job's attempts to the backend: envelopes built when an attempt's turn comes (no per-call envelope held
/// while it waits), through the <see cref="Cloud"/>'s <see cref="InvokeGate"/>, a few pumps per job. A throttling
/// answer is no fault: the pump waits (the platform's <c>Retry-After</c>, else a growing back-off) and sends the same
/// attempt again, while the gate lowers the rate for everyone. A connection that cannot be made is treated alike, for a
/// bounded number of tries (<see cref="UnreachableTries"/>); an invoke whose answer does not come in time counts as
/// accepted, since the platform may have it (the attempt's status decides).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop source lives as long as the job; cancelling it is all it needs.")]
internal sealed class Launcher
{
    private static readonly TimeSpan MaxThrottleWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ThrottleBase = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan UnreachableBase = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Connection attempts for one invocation before it counts as failed: about 50 s of waiting (0.2, 0.4, ... 25.6 s,
    /// each half to all of it), long enough for a gateway or emulator restart, short enough that a wrong endpoint fails
    /// the job in minutes.
    /// </summary>
    internal const int UnreachableTries = 9;
    private readonly Channel<(int Index, int Attempt, int Slot)> _queue = Channel.CreateUnbounded<(int, int, int)>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly IComputeBackend _backend;
    private readonly InvokeGate _gate;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<int, int, int, InvocationEnvelope?> _envelope;
    private readonly Action<int, int, int, DateTimeOffset> _accepted;
    private readonly Action<int, int, Exception> _failed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _pumps;

    /// <param name="backend">Where attempts go.</param>
    /// <param name="gate">The cloud's bound on invocations in flight.</param>
    /// <param name="pumps">How many attempts this job sends at once at most.</param>
    /// <param name="time">The clock for back-off waits.</param>
    /// <param name="logger">Where throttling is logged.</param>
    /// <param name="envelope">Builds the envelope of an attempt (call, attempt, slot), or null when the call no longer needs it.</param>
    /// <param name="accepted">The platform accepted the attempt (call, attempt, slot, when; any thread).</param>
    /// <param name="failed">The platform refused the attempt for good (any thread).</param>
    public Launcher(IComputeBackend backend, InvokeGate gate, int pumps, TimeProvider time, ILogger logger,
        Func<int, int, int, InvocationEnvelope?> envelope, Action<int, int, int, DateTimeOffset> accepted, Action<int, int, Exception> failed)
    {
        _backend = backend;
        _gate = gate;
        _time = time;
        _logger = logger;
        _envelope = envelope;
        _accepted = accepted;
        _failed = failed;
        _pumps = new Task[Math.Max(1, pumps)];
        for (int i = 0; i < _pumps.Length; i++)
        {
            _pumps[i] = Task.Run(PumpAsync);
        }
    }

    /// <summary>Queues an attempt (the monitor's task only).</summary>
    public void Enqueue(int index, int attempt, int slot) => _queue.Writer.TryWrite((index, attempt, slot));

    /// <summary>Drops what is queued and stops.</summary>
    public void Stop()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
    }

    private async Task PumpAsync()
    {
        CancellationToken stop = _stop.Token;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out var next))
                {
                    InvocationEnvelope? envelope = _envelope(next.Index, next.Attempt, next.Slot);
                    if (envelope is not null)
                    {
                        await InvokeAsync(envelope, stop).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task InvokeAsync(InvocationEnvelope envelope, CancellationToken stop)
    {
        // A span per invocation when someone listens: the job's child, and the parent the worker's span takes.
        using Activity? span = envelope.TraceParent is { } parent && Telemetry.Source.HasListeners() && ActivityContext.TryParse(parent, null, out ActivityContext job)
            ? Telemetry.Source.StartActivity("neutral.invoke", ActivityKind.Client, job)
            : null;
        if (span is not null)
        {
            span.SetTag("neutral.job.id", envelope.JobId).SetTag("neutral.call", envelope.CallIndex).SetTag("neutral.attempt", envelope.Attempt);
            envelope = envelope with { TraceParent = span.Id };
        }

        int throttles = 0;
        int unreachable = 0;
        DateTimeOffset? unreachableSince = null;
        while (true)
        {
            await _gate.EnterAsync(stop).ConfigureAwait(false);
            bool slowDown = false;
            TimeSpan wait = TimeSpan.Zero;
            try
            {
                await _backend.InvokeAsync(envelope, stop).ConfigureAwait(false);
                Telemetry.AttemptsStarted.Add(1);
                _accepted(envelope.CallIndex, envelope.Attempt, envelope.Slot ?? -1, _time.GetUtcNow());
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                switch (InvokeFailures.Classify(e))
                {
                    case InvokeFailure.Throttled:
                        slowDown = true;
                        throttles++;
                        Telemetry.Throttles.Add(1);
                        span?.AddEvent(new ActivityEvent("throttled"));
                        wait = (e as ThrottledException)?.RetryAfter ?? Backoff(ThrottleBase, throttles);
                        Log.Throttled(_logger, envelope.CallIndex, envelope.Attempt, wait.TotalMilliseconds);
                        break;
                    case InvokeFailure.Unreachable when ++unreachable < UnreachableTries:
                        // Nothing took the request: sending it again costs no attempt, but not at once (an endpoint
                        // that refuses connections is restarting, overloaded or gone; a retry budget spent in
                        // milliseconds helps none of them).
                        slowDown = true;
                        unreachableSince ??= _time.GetUtcNow();
                        wait = Backoff(UnreachableBase, unreachable);
                        Log.Unreachable(_logger, envelope.CallIndex, envelope.Attempt, e.Message, unreachable, wait.TotalMilliseconds);
                        break;
                    case InvokeFailure.Unreachable:
                        _failed(envelope.CallIndex, envelope.Attempt, new System.IO.IOException(string.Create(CultureInfo.InvariantCulture,
                            $"{e.Message} (no connection in {unreachable} tries over {(_time.GetUtcNow() - unreachableSince!.Value).TotalSeconds:0} s)"), e));
                        return;
                    case InvokeFailure.MaybeDelivered:
                        // The request went out and the answer did not come back: the platform may be running the
                        // attempt. Counted as accepted; its status decides, and the start bound covers one never run.
                        Log.MaybeDelivered(_logger, envelope.CallIndex, envelope.Attempt, e.Message);
                        Telemetry.AttemptsStarted.Add(1);
                        _accepted(envelope.CallIndex, envelope.Attempt, envelope.Slot ?? -1, _time.GetUtcNow());
                        return;
                    default:
                        _failed(envelope.CallIndex, envelope.Attempt, e);
                        return;
                }
            }
            finally
            {
                _gate.Exit(slowDown);
            }

            await Task.Delay(wait, _time, stop).ConfigureAwait(false);
        }
    }

    /// <summary>A growing wait with jitter: half to all of <paramref name="unit"/> times 2^<paramref name="tries"/>, at most 30 s.</summary>
    private static TimeSpan Backoff(TimeSpan unit, int tries)
    {
        double full = Math.Min(MaxThrottleWait.TotalMilliseconds, unit.TotalMilliseconds * Math.Pow(2, Math.Min(tries, 16)));
        return TimeSpan.FromMilliseconds(full * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
