using System;

namespace Neutral.Execution;

/// <summary>Which store and platform errors are worth retrying.</summary>
internal static class TransientErrors
{
    /// <summary>
    /// Transient unless it is a caller's mistake or a refusal that a retry cannot change (bad key, unsupported,
    /// forbidden, disposed, cancelled). Unknown SDK exceptions count as transient: retries are bounded in time. An
    /// argument exception thrown inside <c>System.Net.Http</c> is a malformed response, and transient.
    /// </summary>
    public static bool IsTransient(Exception? e) => e switch
    {
        null => false,
        ThrottledException => true,
        NeutralConfigurationException => false,
        // The HTTP stack's own argument checks failing on what a server sent (a status line it could not parse, seen
        // from Ceph RGW under load): the response's fault, not the caller's.
        ArgumentException when FromHttpStack(e) => true,
        OperationCanceledException or ArgumentException or NotSupportedException or UnauthorizedAccessException
            or ObjectDisposedException or InvalidOperationException or NotImplementedException or OutOfMemoryException => false,
        _ => true,
    };

    /// <summary>Whether <paramref name="e"/> was thrown by a method of <c>System.Net.Http</c> (its first frame).</summary>
    /// <remarks>Read from the stack trace's text, which trimmed and NativeAOT builds keep (method metadata they may not).</remarks>
    private static bool FromHttpStack(Exception e) =>
        e.StackTrace is { } trace && trace.AsSpan().TrimStart().StartsWith("at System.Net.Http.", StringComparison.Ordinal);
}
