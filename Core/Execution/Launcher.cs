using System;
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
/// attempt again, while the gate lowers the rate for everyone.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop source lives as long as the job; cancelling it is all it needs.")]
internal sealed class Launcher
{
    private static readonly TimeSpan MaxThrottleWait = TimeSpan.FromSeconds(30);
    private readonly Channel<(int Index, int Attempt)> _queue = Channel.CreateUnbounded<(int, int)>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly IComputeBackend _backend;
    private readonly InvokeGate _gate;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<int, int, InvocationEnvelope?> _envelope;
    private readonly Action<int, int, DateTimeOffset> _accepted;
    private readonly Action<int, int, Exception> _failed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _pumps;

    /// <param name="backend">Where attempts go.</param>
    /// <param name="gate">The cloud's bound on invocations in flight.</param>
    /// <param name="pumps">How many attempts this job sends at once at most.</param>
    /// <param name="time">The clock for back-off waits.</param>
    /// <param name="logger">Where throttling is logged.</param>
    /// <param name="envelope">Builds the envelope of an attempt, or null when the call no longer needs it.</param>
    /// <param name="accepted">The platform accepted the attempt (any thread).</param>
    /// <param name="failed">The platform refused the attempt for good (any thread).</param>
    public Launcher(IComputeBackend backend, InvokeGate gate, int pumps, TimeProvider time, ILogger logger,
        Func<int, int, InvocationEnvelope?> envelope, Action<int, int, DateTimeOffset> accepted, Action<int, int, Exception> failed)
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
    public void Enqueue(int index, int attempt) => _queue.Writer.TryWrite((index, attempt));

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
                    InvocationEnvelope? envelope = _envelope(next.Index, next.Attempt);
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
        int throttles = 0;
        while (true)
        {
            await _gate.EnterAsync(stop).ConfigureAwait(false);
            bool throttled = false;
            TimeSpan wait = TimeSpan.Zero;
            try
            {
                await _backend.InvokeAsync(envelope, stop).ConfigureAwait(false);
                _accepted(envelope.CallIndex, envelope.Attempt, _time.GetUtcNow());
                return;
            }
            catch (ThrottledException e)
            {
                throttled = true;
                throttles++;
                double backoff = Math.Min(MaxThrottleWait.TotalMilliseconds, 50 * Math.Pow(2, Math.Min(throttles, 12)));
                wait = e.RetryAfter ?? TimeSpan.FromMilliseconds(backoff * (0.5 + Random.Shared.NextDouble() / 2));
                Log.Throttled(_logger, envelope.CallIndex, envelope.Attempt, wait.TotalMilliseconds);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                _failed(envelope.CallIndex, envelope.Attempt, e);
                return;
            }
            finally
            {
                _gate.Exit(throttled);
            }

            await Task.Delay(wait, _time, stop).ConfigureAwait(false);
        }
    }
}
