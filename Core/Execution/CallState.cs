using System;

namespace Neutral.Execution;

/// <summary>What the executor knows of one call; owned by its job's monitor task alone.</summary>
internal sealed class CallState
{
    /// <summary>Attempts launched so far; the newest one is attempt <see cref="Launched"/>.</summary>
    public int Launched;

    /// <summary>The launch slot of the newest attempt (<see cref="CompletionSlots"/>).</summary>
    public int Slot;

    /// <summary>Platform faults and retryable failures counted against the call's retries.</summary>
    public short Faults;

    /// <summary>The highest attempt whose <c>failed.{a}</c> record was handled.</summary>
    public short FailedSeen;

    // UTC ticks, 0 for none: a million calls' states are live at once, and a DateTimeOffset? takes 24 bytes.
    private long _invokedAt;
    private long _startedAt;

    /// <summary>When the platform accepted the newest attempt; <see langword="null"/> while its invocation is pending.</summary>
    public DateTimeOffset? InvokedAt
    {
        get => _invokedAt == 0 ? null : new DateTimeOffset(_invokedAt, TimeSpan.Zero);
        set => _invokedAt = value?.UtcTicks ?? 0;
    }

    /// <summary>When the newest attempt was seen to start (its <c>started</c> marker in storage, or a hint).</summary>
    public DateTimeOffset? StartedAt
    {
        get => _startedAt == 0 ? null : new DateTimeOffset(_startedAt, TimeSpan.Zero);
        set => _startedAt = value?.UtcTicks ?? 0;
    }

    /// <summary>
    /// The newest attempt's place in its invocation's batch (0 for the first or only call): its start bound grows by a
    /// timeout for each call before it.
    /// </summary>
    public ushort Position;

    // Two flags in a byte, so that the state with its position stays at 48 bytes (the monitor task alone writes them).
    private byte _flags;

    /// <summary>Whether a speculative backup was launched.</summary>
    public bool Speculated
    {
        get => (_flags & 1) != 0;
        set => _flags = (byte)(value ? _flags | 1 : _flags & ~1);
    }

    /// <summary>Whether the call was seen running (for progress).</summary>
    public bool Running
    {
        get => (_flags & 2) != 0;
        set => _flags = (byte)(value ? _flags | 2 : _flags & ~2);
    }

    /// <summary>Whether the call has its outcome (read by the launcher's pumps too, with <see cref="System.Threading.Volatile"/>).</summary>
    public bool Done;
}
