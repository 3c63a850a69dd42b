using System;
using System.IO;
using System.Text;
using System.Threading;

namespace Neutral.Workers;

/// <summary>
/// A call's captured output (its <see cref="RemoteContext.Log"/>, and in worker processes its console), bounded so
/// that a chatty call cannot fill the status object: past the limit the head is kept and a marker says how much was cut.
/// </summary>
public sealed class CallLog : TextWriter
{
    /// <summary>The default bound, in characters.</summary>
    public const int DefaultLimit = 64 * 1024;

    private static readonly AsyncLocal<CallLog?> s_current = new();
    private readonly StringBuilder _text = new();
    private readonly int _limit;
    private long _dropped;
    private TextWriter? _echo;
    private string _prefix = string.Empty;
    private StringBuilder? _line;

    /// <summary>Creates a log holding at most <paramref name="limit"/> characters.</summary>
    public CallLog(int limit = DefaultLimit) => _limit = limit;

    /// <summary>The log of the call running on this async flow, if any (console output is routed to it).</summary>
    public static CallLog? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <inheritdoc/>
    public override Encoding Encoding => Encoding.UTF8;

    /// <inheritdoc/>
    public override void Write(char value)
    {
        lock (_text)
        {
            if (_text.Length < _limit)
            {
                _text.Append(value);
            }
            else
            {
                _dropped++;
            }

            Echo(value);
        }
    }

    /// <inheritdoc/>
    public override void Write(string? value)
    {
        if (value is null)
        {
            return;
        }

        lock (_text)
        {
            int room = Math.Max(0, _limit - _text.Length);
            _text.Append(value, 0, Math.Min(room, value.Length));
            _dropped += Math.Max(0, value.Length - room);
            if (_echo is not null)
            {
                foreach (char c in value)
                {
                    Echo(c);
                }
            }
        }
    }

    /// <summary>
    /// Also writes every complete line to <paramref name="echo"/>, after <paramref name="prefix"/>, unbounded: how a worker
    /// process forwards a call's output to its client as it is written (<c>Local:ForwardOutput</c>).
    /// </summary>
    internal void StartEcho(TextWriter echo, string prefix)
    {
        lock (_text)
        {
            _echo = echo;
            _prefix = prefix;
            _line = new StringBuilder();
        }
    }

    /// <summary>Writes the last, unfinished line, if any, and stops echoing.</summary>
    internal void EndEcho()
    {
        lock (_text)
        {
            if (_line is { Length: > 0 })
            {
                Echo('\n');
            }

            _echo = null;
            _line = null;
        }
    }

    private void Echo(char c)
    {
        if (_echo is null || _line is null)
        {
            return;
        }

        if (c == '\r')
        {
            return;
        }

        if (c != '\n')
        {
            _line.Append(c);
            return;
        }

        try
        {
            // One write per line: lines of concurrent workers do not interleave mid-line.
            _echo.Write(_prefix + _line.ToString() + "\n");
            _echo.Flush();
        }
        catch (IOException)
        {
            // The client's end is gone; the log itself still holds the line.
        }

        _line.Clear();
    }

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    /// <summary>The captured text, or <see langword="null"/> when nothing was written.</summary>
    public string? Text
    {
        get
        {
            lock (_text)
            {
                if (_text.Length == 0 && _dropped == 0)
                {
                    return null;
                }

                return _dropped == 0 ? _text.ToString() : _text + $"\n[... {_dropped} more characters not kept]";
            }
        }
    }
}

/// <summary>Routes console writes to the running call's <see cref="CallLog"/> (worker processes install it as Console.Out and Console.Error).</summary>
public sealed class CallLogRouter : TextWriter
{
    private readonly TextWriter _fallback;

    /// <summary>Creates the router; writes outside any call go to <paramref name="fallback"/>.</summary>
    public CallLogRouter(TextWriter fallback) => _fallback = fallback;

    /// <inheritdoc/>
    public override Encoding Encoding => Encoding.UTF8;

    private TextWriter Target => (TextWriter?)CallLog.Current ?? _fallback;

    /// <inheritdoc/>
    public override void Write(char value) => Target.Write(value);

    /// <inheritdoc/>
    public override void Write(string? value) => Target.Write(value);

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count) => Target.Write(buffer, index, count);

    /// <inheritdoc/>
    public override void Flush() => Target.Flush();
}
