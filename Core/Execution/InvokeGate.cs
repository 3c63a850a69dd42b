using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>
/// Bounds a <see cref="Cloud"/>'s invocation requests in flight (<c>Job:InvokeConcurrency</c>) and adapts the bound to
/// the platform: halved on every throttling answer (never below one), raised by one after a window of accepted
/// invocations, back up to the configured bound.
/// </summary>
internal sealed class InvokeGate
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private readonly int _maximum;
    private int _limit;
    private int _inUse;
    private int _accepted;

    public InvokeGate(int maximum)
    {
        _maximum = Math.Max(1, maximum);
        _limit = _maximum;
    }

    /// <summary>The current bound.</summary>
    public int Limit
    {
        get
        {
            lock (_lock)
            {
                return _limit;
            }
        }
    }

    /// <summary>Waits for a free place.</summary>
    public ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_inUse < _limit && _waiters.Count == 0)
            {
                _inUse++;
                return ValueTask.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
        }

        return new ValueTask(WaitAsync(waiter, cancellationToken));
    }

    private async Task WaitAsync(TaskCompletionSource waiter, CancellationToken cancellationToken)
    {
        try
        {
            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Task.IsCompletedSuccessfully)
                {
                    // Granted as it was cancelled: hand the place on.
                    _inUse--;
                    GrantLocked();
                }
                else
                {
                    waiter.TrySetCanceled(cancellationToken);
                }
            }

            throw;
        }
    }

    /// <summary>Frees a place; <paramref name="throttled"/> when the platform answered with throttling.</summary>
    public void Exit(bool throttled)
    {
        lock (_lock)
        {
            _inUse--;
            if (throttled)
            {
                _limit = Math.Max(1, _limit / 2);
                _accepted = 0;
            }
            else if (_limit < _maximum && ++_accepted >= _limit)
            {
                _limit++;
                _accepted = 0;
            }

            GrantLocked();
        }
    }

    private void GrantLocked()
    {
        while (_inUse < _limit && _waiters.TryDequeue(out TaskCompletionSource? next))
        {
            if (next.TrySetResult())
            {
                _inUse++;
            }
        }
    }
}
