using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM while clouds are open: the first signal cancels their running jobs and cleans up what a
/// normal end cleans up (the clouds are disposed, bounded), prints one line to standard error and then ends the process
/// with the signal's conventional exit code (130, 143); a second signal while that runs ends the process at once, as if
/// Neutral were not there. With no cloud open the runtime's default applies. Off with <c>Job:CancelOnSignal=false</c>
/// (and by default under <c>AddNeutral</c>, where the host owns shutdown and disposes the cloud itself).
/// </summary>
internal sealed class ShutdownSignals
{
    /// <summary>How long the clouds get to dispose: a bit more than a cloud's own bound, then the process ends anyway.</summary>
    internal static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private readonly Lock _gate = new();
    private readonly HashSet<Cloud> _open = [];
    private readonly Action<int> _exit;
    private readonly System.IO.TextWriter? _output;
    private PosixSignalRegistration[]? _registrations;
    private int _handling;

    /// <param name="exit">What ends the process once the clouds are disposed.</param>
    /// <param name="output">Where the one line goes (standard error when null).</param>
    internal ShutdownSignals(Action<int> exit, System.IO.TextWriter? output)
    {
        _exit = exit;
        _output = output;
    }

    /// <summary>The process's handler, registered with the runtime when a cloud is first tracked.</summary>
    public static ShutdownSignals Process { get; } = new(ExitBySignal, null);

    /// <summary>
    /// Ends the process as the signal would have: Neutral's handlers removed, the signal raised again, so that the
    /// runtime's default applies and a calling shell or make sees death by the signal (and stops too); if the process
    /// is still there a moment later (an application handler kept it alive), it exits with <paramref name="code"/>.
    /// </summary>
    private static void ExitBySignal(int code)
    {
        Process.Unregister();
        if (Workers.Storage.PosixFiles.SendSignal(Environment.ProcessId, code - 128))
        {
            Thread.Sleep(TimeSpan.FromSeconds(2));
        }

        Environment.Exit(code);
    }

    private void Unregister()
    {
        lock (_gate)
        {
            foreach (PosixSignalRegistration registration in _registrations ?? [])
            {
                registration.Dispose();
            }

            _registrations = null;
            _open.Clear();
        }
    }

    /// <summary>Starts handling the signals for <paramref name="cloud"/> until <see cref="Forget"/>.</summary>
    public void Track(Cloud cloud, bool register = true)
    {
        lock (_gate)
        {
            _open.Add(cloud);
            if (register && _registrations is null && !OperatingSystem.IsBrowser() && !OperatingSystem.IsWasi())
            {
                _registrations =
                [
                    PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
                    PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
                ];
            }
        }
    }

    /// <summary>Stops handling the signals for <paramref name="cloud"/> (it is being disposed).</summary>
    public void Forget(Cloud cloud)
    {
        lock (_gate)
        {
            _open.Remove(cloud);
        }
    }

    /// <summary>The handler: the runtime calls it on a signal (tests call it directly).</summary>
    internal void Handle(PosixSignalContext context)
    {
        Cloud[] clouds;
        lock (_gate)
        {
            clouds = [.. _open];
        }

        if (clouds.Length == 0 || Interlocked.Exchange(ref _handling, 1) != 0)
        {
            // Nothing of Neutral's open, or the second signal: the runtime's default (the process ends now).
            return;
        }

        context.Cancel = true;
        int jobs = clouds.Sum(c => c.RunningJobs);
        string name = context.Signal == PosixSignal.SIGINT ? "Ctrl-C" : context.Signal.ToString();
        int code = 128 + (context.Signal == PosixSignal.SIGINT ? 2 : 15);
        string what = jobs == 0 ? "cleaning up" : $"cancelling {jobs} running job{(jobs == 1 ? "" : "s")} and cleaning up";
        try
        {
            (_output ?? Console.Error).WriteLine($"neutral: {name}: {what} (at most {Bound.TotalSeconds:0} s; {name} again exits at once)");
        }
        catch (Exception e) when (e is System.IO.IOException or ObjectDisposedException)
        {
            // Standard error closed: clean up all the same.
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(clouds.Select(c => c.DisposeAsync(interrupted: true).AsTask())).WaitAsync(Bound).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Whatever is left is swept by a later Connect (at once on this host: its owner is gone).
            }
            finally
            {
                Volatile.Write(ref _handling, 0);
                _exit(code);
            }
        });
    }
}
