using System;

namespace Neutral.Execution;

/// <summary>Which store and platform errors are worth retrying.</summary>
internal static class TransientErrors
{
    /// <summary>
    /// Transient unless it is a caller's mistake or a refusal that a retry cannot change (bad key, unsupported,
    /// forbidden, disposed, cancelled). Unknown SDK exceptions count as transient: retries are bounded in time.
    /// </summary>
    public static bool IsTransient(Exception? e) => e switch
    {
        null => false,
        ThrottledException => true,
        NeutralConfigurationException => false,
        OperationCanceledException or ArgumentException or NotSupportedException or UnauthorizedAccessException
            or ObjectDisposedException or InvalidOperationException or NotImplementedException or OutOfMemoryException => false,
        _ => true,
    };
}
