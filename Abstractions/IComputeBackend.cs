using System;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral;

/// <summary>
/// Starts calls on a compute platform (a local worker pool, Lambda, Functions, OpenWhisk). Invoking only starts a
/// call: its outcome is learned from the status object in storage, never from the invoke's reply.
/// </summary>
public interface IComputeBackend : IAsyncDisposable
{
    /// <summary>The backend's name as in configuration (<c>local</c>, <c>aws</c>, ...).</summary>
    string Name { get; }

    /// <summary>Where this backend's workers expect the job store.</summary>
    StoreLocation Store { get; }

    /// <summary>Starts one attempt of one call. Completes when the platform has accepted the invocation.</summary>
    /// <exception cref="Exception">The platform refused or failed the invocation (retried by the client as a platform fault).</exception>
    ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default);
}
