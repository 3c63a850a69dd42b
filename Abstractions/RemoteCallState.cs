namespace Neutral;

/// <summary>Where a remote call is in its life.</summary>
public enum RemoteCallState
{
    /// <summary>Submitted, not yet seen running.</summary>
    Pending,
    /// <summary>A worker has started an attempt.</summary>
    Running,
    /// <summary>A status object reports success; the result is available.</summary>
    Succeeded,
    /// <summary>Every allowed attempt failed, or the method threw and is not retried.</summary>
    Failed,
    /// <summary>The job was cancelled before this call finished.</summary>
    Cancelled,
}
