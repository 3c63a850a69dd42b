using System;
using System.Globalization;
using Neutral.Wire;

namespace Neutral.Workers;

/// <summary>
/// Builds the <see cref="RemoteError"/> of a status record from an exception, bounded: a status travels in one
/// object and one local frame, so a 2,000,000-character message or a stack trace of deep recursion is cut, with a note
/// saying how much.
/// </summary>
internal static class RemoteErrors
{
    /// <summary>The most characters of a message kept.</summary>
    public const int MessageLimit = 16 * 1024;

    /// <summary>The most characters of a stack trace kept.</summary>
    public const int StackTraceLimit = 32 * 1024;

    /// <summary>
    /// How a call's own time limit is named in its failure: the limit, and the two places it is set (a message that
    /// names the fix).
    /// </summary>
    public static string TimeoutText(double seconds) =>
        $"its {seconds.ToString("0.###", CultureInfo.InvariantCulture)} s timeout ([Remote(TimeoutSeconds = ...)] or Job:TimeoutSeconds)";

    /// <summary>An error whose message is the exception's and whose stack trace is its full text (inner exceptions included).</summary>
    public static RemoteError FromException(string kind, Exception exception)
    {
        string message = Message(exception);
        string text;
        try
        {
            text = exception.ToString();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A user exception whose ToString throws still gets reported.
            text = exception.StackTrace ?? string.Empty;
        }

        if (message.Length > MessageLimit && exception.Message is { Length: > 0 } full)
        {
            // The text starts with the message: cut it there too, so that the stack frames survive the bound below.
            text = text.Replace(full, Truncate(full, MessageLimit), StringComparison.Ordinal);
        }

        return new RemoteError(kind, exception.GetType().FullName!, Truncate(message, MessageLimit), Truncate(text, StackTraceLimit));
    }

    /// <summary>An error with the given parts, bounded.</summary>
    public static RemoteError Create(string kind, string type, string message, string? stackTrace) =>
        new(kind, type, Truncate(message, MessageLimit), stackTrace is null ? null : Truncate(stackTrace, StackTraceLimit));

    /// <summary>The exception's message, or its type when reading the message throws.</summary>
    public static string Message(Exception exception)
    {
        try
        {
            return exception.Message;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return exception.GetType().FullName + " (its message could not be read: " + e.GetType().Name + ")";
        }
    }

    /// <summary><paramref name="text"/>, cut to <paramref name="limit"/> characters plus a note when longer.</summary>
    public static string Truncate(string text, int limit)
    {
        if (text.Length <= limit)
        {
            return text;
        }

        // Never split a surrogate pair: half of one has no UTF-8 encoding.
        int keep = char.IsHighSurrogate(text[limit - 1]) ? limit - 1 : limit;
        return string.Concat(text.AsSpan(0, keep), string.Create(CultureInfo.InvariantCulture, $"... [truncated: {text.Length - keep:N0} more characters]"));
    }
}
