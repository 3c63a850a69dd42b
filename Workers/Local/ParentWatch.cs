using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Neutral.Workers.Local;

/// <summary>
/// Calls back when this process's parent dies (Linux and macOS re-parent an orphan, so getppid(2) changes). A second
/// line behind the input pipe's end, for a pipe some other process still holds open.
/// </summary>
internal sealed partial class ParentWatch : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private readonly Timer _timer;
    private readonly int _parent;
    private readonly Action _onParentGone;

    private ParentWatch(int parent, Action onParentGone)
    {
        _parent = parent;
        _onParentGone = onParentGone;
        _timer = new Timer(static state => ((ParentWatch)state!).Check(), this, Period, Period);
    }

    /// <summary>Starts watching, or returns <see langword="null"/> where the parent cannot be read (Windows).</summary>
    public static ParentWatch? Start(Action onParentGone)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return null;
        }

        try
        {
            int parent = GetParentProcessId();
            return parent > 1 ? new ParentWatch(parent, onParentGone) : null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    private void Check()
    {
        if (GetParentProcessId() != _parent)
        {
            _timer.Dispose();
            _onParentGone();
        }
    }

    public void Dispose() => _timer.Dispose();

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();
}
