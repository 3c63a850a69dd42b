using System;

namespace Neutral.Execution;

/// <summary>What the executor knows of one call; owned by its job's monitor task alone.</summary>
internal sealed class CallState
{
    /// <summary>Attempts launched so far; the newest one is attempt <see cref="Launched"/>.</summary>
    public int Launched;

    /// <summary>Platform faults and retryable failures counted against the call's retries.</summary>
    public int Faults;

    /// <summary>The highest attempt whose <c>failed.{a}</c> record was handled.</summary>
    public int FailedSeen;

    /// <summary>When the platform accepted the newest attempt; <see langword="null"/> while its invocation is pending.</summary>
    public DateTimeOffset? InvokedAt;

    /// <summary>When the newest attempt was seen to start (<c>started.{a}</c> in storage, or a hint).</summary>
    public DateTimeOffset? StartedAt;

    /// <summary>Whether a speculative backup was launched.</summary>
    public bool Speculated;

    /// <summary>Whether the call was seen running (for progress).</summary>
    public bool Running;

    /// <summary>Whether the call has its outcome.</summary>
    public bool Done;
}
