namespace Neutral;

/// <summary>
/// A compute backend whose workers can invoke the backend's own function from inside the platform, so that a job's
/// invocations can be sent from the cloud rather than from the client (<c>Job:InvokeFrom=cloud</c>): the client stages
/// the envelopes in storage and invokes a few launcher calls, and each launcher invokes its share. The platform's worker
/// runtime gives its <c>CallRunner</c> a launch handler built from what the platform gives a running function (its
/// role, its API key, its queue).
/// </summary>
public interface ISelfInvokingComputeBackend : IComputeBackend
{
    /// <summary>
    /// Why this backend, as configured, cannot send invocations from its workers (for example a Function App behind
    /// an HTTP trigger, whose workers hold no key to call themselves); <see langword="null"/> when it can.
    /// </summary>
    string? SelfInvokeRefusal { get; }
}
