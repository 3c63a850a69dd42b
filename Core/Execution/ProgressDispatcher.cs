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
    private readonly Func<JobProgress> _snapshot;
    private StrongBox<JobProgress>? _pending;
    private Action<JobProgress>? _raise;
    private int _running;
    private int _errors;

    /// <param name="logger">Where a handler's exception is logged.</param>
    /// <param name="snapshot">How the job stands now.</param>
    public ProgressDispatcher(ILogger logger, Func<JobProgress> snapshot)
    {
        _logger = logger;
        _snapshot = snapshot;
    }

    /// <summary>How many times a handler threw.</summary>
    public int HandlerErrors => Volatile.Read(ref _errors);

    /// <summary>
    /// What raises the event (the job's handlers), or null while none is subscribed: snapshots are made and dispatched
    /// only then, since each dispatch is a thread-pool hop.
    /// </summary>
    public Action<JobProgress>? Raise
    {
        get => Volatile.Read(ref _raise);
        set => Volatile.Write(ref _raise, value);
    }

    /// <summary>The job moved (a call started or ended): posts its snapshot when someone listens.</summary>
    public void Changed()
    {
        if (Raise is not null)
        {
            Post(_snapshot());
        }
    }

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
                    Raise?.Invoke(progress.Value);
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
