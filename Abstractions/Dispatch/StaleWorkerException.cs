using System;

namespace Neutral.Dispatch;

/// <summary>
/// A worker was asked for a function it does not have, or for another version of it: the deployed worker was built
/// from different code than the client. Redeploy the worker.
/// </summary>
public sealed class StaleWorkerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StaleWorkerException(string functionId, ulong requestedHash, ulong? knownHash)
        : base(Describe(functionId, requestedHash, knownHash))
    {
        FunctionId = functionId;
        RequestedHash = requestedHash;
        KnownHash = knownHash;
    }

    /// <summary>The function the call asked for.</summary>
    public string FunctionId { get; }

    /// <summary>The signature hash the client was built with.</summary>
    public ulong RequestedHash { get; }

    /// <summary>The hash this worker has for the function, or <see langword="null"/> when it does not have it at all.</summary>
    public ulong? KnownHash { get; }

    private static string Describe(string functionId, ulong requested, ulong? known) =>
        known is null
            ? $"The worker has no function '{functionId}' (signature hash {requested:x16}): the deployed worker is stale or was built from other code. Redeploy the worker from the same build as the client."
            : $"The worker has function '{functionId}' with signature hash {known.Value:x16}, but the call was built for {requested:x16}: client and worker were built from different versions of it, so the deployed worker is stale. Redeploy the worker from the same build as the client.";
}
