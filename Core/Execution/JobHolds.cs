using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>
/// Who still reads a job's data: each call made with one of the job's futures as an argument holds it from the moment
/// its stub took the future until the job that ran the call has ended, and each result left in storage holds it until
/// the application reads it. The job's cleanup waits until no hold is left (or the cloud is disposed), so that a
/// dependent call, and its retries, find the results they read. A job once held also leaves its large results in
/// storage rather than read them (<see cref="Feeding"/>).
/// </summary>
internal sealed class JobHolds
{
    private readonly object _gate = new();
    private TaskCompletionSource? _free;
    private int _count;
    private bool _closed;
    private volatile bool _feeding;

    public JobHolds(CloudContext cloud) => Cloud = cloud;

    /// <summary>The cloud whose store holds the job's data: a dependent call must run in the same one.</summary>
    public CloudContext Cloud { get; }

    /// <summary>
    /// Whether the job's futures were ever passed as arguments: its results stored as objects (too large for the
    /// status) are then read only when the application asks for them.
    /// </summary>
    public bool Feeding => _feeding;

    /// <summary>Holds now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Takes a hold; false once the job's cleanup has begun (its data may be gone).</summary>
    public bool TryAcquire()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _count++;
            _feeding = true;
            return true;
        }
    }

    /// <summary>Lets a hold go.</summary>
    public void Release()
    {
        TaskCompletionSource? free = null;
        lock (_gate)
        {
            if (_count == 0)
            {
                return;
            }

            if (--_count == 0)
            {
                free = _free;
            }
        }

        free?.TrySetResult();
    }

    /// <summary>
    /// Waits until no hold is left (or <paramref name="disposing"/> fires), then closes: later takes fail, and the job's
    /// data can go.
    /// </summary>
    public async Task CloseAsync(CancellationToken disposing)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                // Checked and closed under the lock: a hold taken after the last release is seen here, not lost.
                if (_count == 0 || disposing.IsCancellationRequested)
                {
                    _closed = true;
                    return;
                }

                _free = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _free.Task;
            }

            try
            {
                await wait.WaitAsync(disposing).ConfigureAwait(false);
            }
            catch (System.OperationCanceledException)
            {
                // The cloud is going: what still holds the job is cancelled with it (checked above).
            }
        }
    }
}
