using System;

namespace Neutral;

/// <summary>
/// A platform or store refused a request because of a rate or concurrency limit (HTTP 429, a throttling error code).
/// The executor does not count it as a fault: it waits (<see cref="RetryAfter"/> when the platform said how long),
/// lowers its launch rate, and tries again.
/// </summary>
public sealed class ThrottledException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ThrottledException()
        : this("The platform throttled the request.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was throttled, by whom.</param>
    public ThrottledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was throttled, by whom.</param>
    /// <param name="innerException">The platform's own error.</param>
    public ThrottledException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was throttled, by whom.</param>
    /// <param name="retryAfter">How long the platform asked to wait (a <c>Retry-After</c> header), if it said.</param>
    /// <param name="innerException">The platform's own error.</param>
    public ThrottledException(string message, TimeSpan? retryAfter, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter is { } wait && wait < TimeSpan.Zero ? TimeSpan.Zero : retryAfter;
    }

    /// <summary>How long the platform asked to wait before the next request, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
