using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
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
    private readonly Action<int, int, int, int, DateTimeOffset> _accepted;
    private readonly Action<int, int, Exception> _failed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _pumps;
    private int _started;
    private readonly BatchSizer _sizer;
    private readonly Func<IReadOnlyList<InvocationEnvelope>, CancellationToken, Task<InvocationEnvelope>>? _stage;
    private int _sentSlot = -1;

    /// <summary>The most attempts one launcher call invokes (<c>Job:InvokeFrom=cloud</c>).</summary>
    internal const int LaunchGroup = 500;

    /// <summary>
    /// The fewest attempts worth a launcher call: a smaller group (a retry, a backup, the end of a job) is invoked from
    /// here, where it costs no extra invocation and no staged object.
    /// </summary>
    internal const int MinLaunchGroup = 16;

    /// <summary>
    /// The highest launch slot of an attempt handed to the backend so far (any thread). The monitor lists slots from
    /// when their attempts are sent, not accepted: a backend whose invoke returns only when the call has run (an HTTP
    /// trigger) would otherwise show no call running.
    /// </summary>
    public int SentSlot => Volatile.Read(ref _sentSlot);

    /// <summary>
    /// The most inline arguments one invocation carries when it runs several calls: under every platform's limit on an
    /// asynchronous invocation's payload (Azure's queue messages, 64 KiB, are the smallest).
    /// </summary>
    internal const int BatchInlineLimit = 48 * 1024;

    /// <param name="backend">Where attempts go.</param>
    /// <param name="gate">The cloud's bound on invocations in flight.</param>
    /// <param name="pumps">How many attempts this job sends at once at most.</param>
    /// <param name="time">The clock for back-off waits.</param>
    /// <param name="logger">Where throttling is logged.</param>
    /// <param name="envelope">Builds the envelope of an attempt (call, attempt, slot), or null when the call no longer needs it.</param>
    /// <param name="accepted">
    /// The platform accepted the attempt (call, attempt, slot, its place in its invocation's batch, when; any thread).
    /// </param>
    /// <param name="failed">The platform refused the attempt for good (any thread).</param>
    /// <param name="sizer">Calls per invocation (<c>Job:CallsPerInvocation</c>): queued attempts of one function go together; null for one each.</param>
    /// <param name="stage">
    /// With <c>Job:InvokeFrom=cloud</c>: stages a group of envelopes and returns the launcher call that invokes them from
    /// inside the platform; null to invoke every attempt from here.
    /// </param>
    public Launcher(IComputeBackend backend, InvokeGate gate, int pumps, TimeProvider time, ILogger logger,
        Func<int, int, int, InvocationEnvelope?> envelope, Action<int, int, int, int, DateTimeOffset> accepted, Action<int, int, Exception> failed, BatchSizer? sizer = null,
        Func<IReadOnlyList<InvocationEnvelope>, CancellationToken, Task<InvocationEnvelope>>? stage = null)
    {
        _sizer = sizer ?? BatchSizer.One;
        _stage = stage;
        _backend = backend;
        _gate = gate;
        _time = time;
        _logger = logger;
        _envelope = envelope;
        _accepted = accepted;
        _failed = failed;
        _pumps = new Task[Math.Max(1, pumps)];
    }

    /// <summary>
    /// Starts the pumps (once): after the first attempts are queued, so that the first pumps find them all, not the
    /// first few (a launch group of 3 would go without a launcher call).
    /// </summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            for (int i = 0; i < _pumps.Length; i++)
            {
                _pumps[i] = Task.Run(PumpAsync);
            }
        }
    }

    /// <summary>Queues an attempt (the monitor's task only).</summary>
    public void Enqueue(int index, int attempt, int slot) => _queue.Writer.TryWrite((index, attempt, slot));

    /// <summary>Sends what is queued, then stops; completes when the last invoke has its answer.</summary>
    public Task DrainAsync()
    {
        _queue.Writer.TryComplete();
        Start();
        return Task.WhenAll(_pumps);
    }

    /// <summary>Drops what is queued and stops.</summary>
    public void Stop()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
    }

    private async Task PumpAsync()
    {
        CancellationToken stop = _stop.Token;
        InvocationEnvelope? carried = null;
        try
        {
            while (true)
            {
                InvocationEnvelope? envelope = carried ?? Take();
                carried = null;
                if (envelope is null)
                {
                    if (!await _queue.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                // One of the first invocations of Job:CallsPerInvocation=auto carries one call, from here: its run time
                // decides the size of the others, which wait for it.
                bool probe = await _sizer.ProbeAsync(stop).ConfigureAwait(false);
                if (_stage is not null && !probe)
                {
                    carried = await LaunchGroupAsync(envelope, stop).ConfigureAwait(false);
                    continue;
                }

                int size = probe ? 1 : _sizer.Current;
                if (size > 1)
                {
                    envelope = Gather(envelope, size, out carried);
                }

                await InvokeAsync(envelope, null, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Takes up to <see cref="LaunchGroup"/> queued invocations after <paramref name="first"/> and sends them through one
    /// launcher call, or from here when they are fewer than <see cref="MinLaunchGroup"/> or cannot be staged; returns
    /// the invocation carried to the next group.
    /// </summary>
    private async Task<InvocationEnvelope?> LaunchGroupAsync(InvocationEnvelope first, CancellationToken stop)
    {
        var group = new List<InvocationEnvelope>();
        List<InvocationEnvelope>? direct = null;
        int size = _sizer.Current;
        InvocationEnvelope? next = first;
        InvocationEnvelope? carried = null;
        while (next is not null && group.Count < LaunchGroup && (direct?.Count ?? 0) < LaunchGroup)
        {
            InvocationEnvelope? over = null;
            InvocationEnvelope one = size > 1 ? Gather(next, size, out over) : next;
            // First attempts go through launcher calls; a retry or a backup goes from here, at once, and never back
            // into a launcher that may have failed it (one stalled by the platform's concurrency, say).
            (one.Attempt == 1 ? group : direct ??= []).Add(one);
            next = over ?? Take();
        }

        if (direct is not null)
        {
            await Task.WhenAll(direct.Select(e => InvokeAsync(e, null, stop))).ConfigureAwait(false);
        }

        if (group.Count == 0)
        {
            return next;
        }

        carried = next;
        if (group.Count >= MinLaunchGroup)
        {
            InvocationEnvelope? launcher = null;
            try
            {
                launcher = await _stage!(group, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                // The store refused the list: these attempts go from here, as with InvokeFrom=client.
                Log.LaunchNotStaged(_logger, group.Count, e.Message);
            }

            if (launcher is not null)
            {
                await InvokeAsync(launcher, group, stop).ConfigureAwait(false);
                return carried;
            }
        }

        await Task.WhenAll(group.Select(e => InvokeAsync(e, null, stop))).ConfigureAwait(false);
        return carried;
    }

    /// <summary>The next queued attempt's envelope, skipping calls that no longer need one; null when the queue is empty.</summary>
    private InvocationEnvelope? Take()
    {
        while (_queue.Reader.TryRead(out var next))
        {
            if (_envelope(next.Index, next.Attempt, next.Slot) is { } envelope)
            {
                return envelope;
            }
        }

        return null;
    }

    /// <summary>
    /// Adds queued attempts of the same function to <paramref name="first"/>'s invocation, up to <paramref name="size"/> calls and
    /// <see cref="BatchInlineLimit"/>; an attempt that does not fit is <paramref name="carried"/> to the next invocation.
    /// The invocation's deadline grows by a timeout for each call added: its last call may start that much later.
    /// </summary>
    private InvocationEnvelope Gather(InvocationEnvelope first, int size, out InvocationEnvelope? carried)
    {
        carried = null;
        List<BatchedCall>? more = null;
        long inline = first.InlineInput?.Length ?? 0;
        while ((more?.Count ?? 0) < size - 1 && Take() is { } next)
        {
            long bytes = next.InlineInput?.Length ?? 0;
            if (next.FunctionId != first.FunctionId || inline + bytes > BatchInlineLimit)
            {
                carried = next;
                break;
            }

            inline += bytes;
            (more ??= []).Add(new BatchedCall(next.CallIndex, next.Attempt, next.Slot, next.InlineInput, next.InputRange, next.From));
        }

        return more is null
            ? first
            : first with
            {
                Batch = more,
                Deadline = first.Deadline + TimeSpan.FromSeconds((first.TimeoutSeconds ?? 0) * (double)more.Count),
                // A batch that carries a call reading other calls' results needs a worker that knows how (version 5).
                Version = Math.Max(first.Version, more.Exists(c => c.From is not null) ? InvocationEnvelope.InputsVersion : first.Version),
            };
    }

    /// <summary>Each call of an accepted invocation (each of a launcher call's, <paramref name="launched"/>) is accepted.</summary>
    private void Accepted(InvocationEnvelope envelope, IReadOnlyList<InvocationEnvelope>? launched)
    {
        DateTimeOffset at = _time.GetUtcNow();
        foreach (InvocationEnvelope one in launched ?? [envelope])
        {
            Telemetry.AttemptsStarted.Add(1 + (one.Batch?.Count ?? 0));
            _accepted(one.CallIndex, one.Attempt, one.Slot ?? -1, 0, at);
            int position = 0;
            foreach (BatchedCall call in one.Batch ?? [])
            {
                _accepted(call.CallIndex, call.Attempt, call.Slot ?? -1, ++position, at);
            }
        }
    }

    /// <summary>Each call of a refused invocation (each of a launcher call's, <paramref name="launched"/>) is refused.</summary>
    private void Failed(InvocationEnvelope envelope, IReadOnlyList<InvocationEnvelope>? launched, Exception error)
    {
        foreach (InvocationEnvelope one in launched ?? [envelope])
        {
            _failed(one.CallIndex, one.Attempt, error);
            foreach (BatchedCall call in one.Batch ?? [])
            {
                _failed(call.CallIndex, call.Attempt, error);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="envelope"/> until the platform takes it, refuses it for good or cannot be reached; a launcher
    /// call stands for the attempts it <paramref name="launched"/>, which are accepted or refused with it.
    /// </summary>
    private async Task InvokeAsync(InvocationEnvelope envelope, IReadOnlyList<InvocationEnvelope>? launched, CancellationToken stop)
    {
        int slot = -1;
        foreach (InvocationEnvelope one in launched ?? [envelope])
        {
            slot = Math.Max(slot, one.Slot ?? -1);
            foreach (BatchedCall call in one.Batch ?? [])
            {
                slot = Math.Max(slot, call.Slot ?? -1);
            }
        }

        int seen = Volatile.Read(ref _sentSlot);
        while (slot > seen && Interlocked.CompareExchange(ref _sentSlot, slot, seen) != seen)
        {
            seen = Volatile.Read(ref _sentSlot);
        }

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
                Accepted(envelope, launched);
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
                        Failed(envelope, launched, new System.IO.IOException(string.Create(CultureInfo.InvariantCulture,
                            $"{e.Message} (no connection in {unreachable} tries over {(_time.GetUtcNow() - unreachableSince!.Value).TotalSeconds:0} s)"), e));
                        return;
                    case InvokeFailure.MaybeDelivered:
                        // The request went out and the answer did not come back: the platform may be running the
                        // attempt. Counted as accepted; its status decides, and the start bound covers one never run.
                        Log.MaybeDelivered(_logger, envelope.CallIndex, envelope.Attempt, e.Message);
                        Accepted(envelope, launched);
                        return;
                    default:
                        Failed(envelope, launched, e);
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
