using System.IO;
using System.Text;

namespace Neutral.Providers.OpenWhisk.Worker;

/// <summary>
/// The action's standard output or error, remembering whether the last thing written ended a line. After each
/// activation the action proxy writes its end-of-activation guard line on both streams, and the invoker splits the
/// container's logs at those lines: an activation that left a line unterminated (<c>Console.Write</c> without a
/// newline) would glue the guard to it, and its logs would run into the next activation's. <see cref="EndLine"/>
/// closes such a line before the result is written.
/// </summary>
internal sealed class LineEndingWriter(TextWriter inner) : TextWriter
{
    private readonly object _gate = new();
    private bool _atLineStart = true;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        lock (_gate)
        {
            inner.Write(value);
            _atLineStart = value == '\n';
        }
    }

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        lock (_gate)
        {
            inner.Write(value);
            _atLineStart = value[^1] == '\n';
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        if (count == 0)
        {
            return;
        }

        lock (_gate)
        {
            inner.Write(buffer, index, count);
            _atLineStart = buffer[index + count - 1] == '\n';
        }
    }

    public override void Flush()
    {
        lock (_gate)
        {
            inner.Flush();
        }
    }

    /// <summary>Ends the current line if one is open, and flushes.</summary>
    public void EndLine()
    {
        lock (_gate)
        {
            if (!_atLineStart)
            {
                inner.Write('\n');
                _atLineStart = true;
            }

            inner.Flush();
        }
    }
}
