using System;

namespace Neutral;

/// <summary>A remote call failed: the method threw, or every attempt was lost to platform faults.</summary>
public class RemoteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RemoteException(
        string message,
        string remoteTypeName,
        string? remoteStackTrace,
        string jobId,
        int callIndex,
        int attempt,
        Exception? innerException = null)
        : base(message, innerException)
    {
        RemoteTypeName = remoteTypeName;
        RemoteStackTrace = remoteStackTrace;
        JobId = jobId;
        CallIndex = callIndex;
        Attempt = attempt;
    }

    /// <summary>The full name of the exception type thrown remotely (or the platform fault's kind).</summary>
    public string RemoteTypeName { get; }

    /// <summary>The stack trace on the worker, when there is one.</summary>
    public string? RemoteStackTrace { get; }

    /// <summary>The job the call belongs to.</summary>
    public string JobId { get; }

    /// <summary>The call's index in the job.</summary>
    public int CallIndex { get; }

    /// <summary>The attempt that failed (1 for the first).</summary>
    public int Attempt { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{GetType().FullName}: {RemoteTypeName}: {Message} (job {JobId}, call {CallIndex}, attempt {Attempt})"
        + (RemoteStackTrace is null ? string.Empty : Environment.NewLine + "--- remote stack trace ---" + Environment.NewLine + RemoteStackTrace);
}
