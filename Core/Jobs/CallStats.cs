using System;

namespace Neutral;

/// <summary>When and where one call ran: the timestamps of its life and the facts of its winning attempt.</summary>
public sealed record CallStats
{
    /// <summary>When the job was submitted.</summary>
    public DateTimeOffset Submitted { get; init; }

    /// <summary>When the winning attempt was handed to the platform.</summary>
    public DateTimeOffset? Invoked { get; init; }

    /// <summary>When the worker started the call (worker clock).</summary>
    public DateTimeOffset? WorkerStart { get; init; }

    /// <summary>When the worker finished the call (worker clock).</summary>
    public DateTimeOffset? WorkerEnd { get; init; }

    /// <summary>When the client read the status object.</summary>
    public DateTimeOffset? StatusSeen { get; init; }

    /// <summary>When the client had the decoded result.</summary>
    public DateTimeOffset? ResultFetched { get; init; }

    /// <summary>The attempt whose status counted: 1 for the first.</summary>
    public int Attempt { get; init; }

    /// <summary>How many attempts were started (retries and speculative backups included).</summary>
    public int AttemptsStarted { get; init; }

    /// <summary>Whether the winning attempt was its worker's first call.</summary>
    public bool ColdStart { get; init; }

    /// <summary>Encoded argument bytes.</summary>
    public long BytesIn { get; init; }

    /// <summary>Encoded result bytes.</summary>
    public long BytesOut { get; init; }

    /// <summary>The worker's host name or id.</summary>
    public string? WorkerHost { get; init; }

    /// <summary>The call's captured output, if any.</summary>
    public string? Log { get; init; }
}
