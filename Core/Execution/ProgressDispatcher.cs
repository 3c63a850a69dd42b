using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace Neutral.Execution;

/// <summary>
/// Raises a job's <c>Progress</c> events off the executor's loop, on a task of their own: the newest snapshot wins (a
/// slow handler sees fewer events, never stale ones, and never holds the job up), and a handler's exception is logged
/// and counted, never able to stop the job.
/// </summary>
internal sealed class ProgressDispatcher
{
    private readonly ILogger _logger;
    private readonly Action<JobProgress> _raise;
    private StrongBox<JobProgress>? _pending;
    private int _running;
    private int _errors;

    public ProgressDispatcher(ILogger logger, Action<JobProgress> raise)
    {
        _logger = logger;
        _raise = raise;
    }

    /// <summary>How many times a handler threw.</summary>
    public int HandlerErrors => Volatile.Read(ref _errors);

    /// <summary>Posts a snapshot (any thread; returns at once).</summary>
    public void Post(JobProgress progress)
    {
        Volatile.Write(ref _pending, new StrongBox<JobProgress>(progress));
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _ = Task.Run(Drain);
        }
    }

    private void Drain()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _pending, null) is { } progress)
            {
                try
                {
                    _raise(progress.Value);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref _errors);
                    Log.ProgressHandlerFailed(_logger, e, e.Message);
                }
            }

            Volatile.Write(ref _running, 0);
            if (Volatile.Read(ref _pending) is null || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
            {
                return;
            }
        }
    }
}
