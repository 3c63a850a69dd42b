using System;
using System.IO;

namespace Neutral.Workers.Tests;

/// <summary>How a worker echoes a call's output for its client (Local:ForwardOutput).</summary>
public sealed class CallLogEchoTests
{
    [Fact]
    public void A_log_echoes_complete_lines_with_its_prefix_and_the_rest_when_it_ends()
    {
        var log = new CallLog(limit: 8);
        var echo = new StringWriter();
        log.StartEcho(echo, "(call 5) ");
        log.Write("abc\r\ndef");
        log.Write('\n');
        log.Write("a line longer than the log's limit\ntail");
        Assert.Equal("(call 5) abc\n(call 5) def\n(call 5) a line longer than the log's limit\n", echo.ToString());
        log.EndEcho();
        Assert.EndsWith("(call 5) tail\n", echo.ToString(), StringComparison.Ordinal);
        // The log itself stays bounded; the echo is not.
        Assert.StartsWith("abc\r\ndef", log.Text, StringComparison.Ordinal);
        log.Write("after\n");
        Assert.DoesNotContain("after", echo.ToString(), StringComparison.Ordinal);
    }
}
