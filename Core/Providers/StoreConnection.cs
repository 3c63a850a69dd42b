using System;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Providers;

/// <summary>A store as a provider's factory returns it: the client's handle, and where workers find the same store.</summary>
/// <param name="Store">The whole store, as the client uses it (Neutral adds its own prefix and retries).</param>
/// <param name="Location">
/// How workers open it (<see cref="StoreLocation.Kind"/> is the kind the provider's worker side registers with
/// <see cref="Storage.ObjectStores"/>); never a credential.
/// </param>
/// <param name="Dispose">Releases the client's handle when the <see cref="Cloud"/> is disposed, if it needs that.</param>
/// <param name="WorkerEnvironment">
/// Variables a worker process needs to open the store (its credentials): the local pool sets them in its worker
/// processes' environment; a cloud provider binds them to its deployed worker. Never put in an envelope or in storage.
/// </param>
/// <param name="Prepare">
/// Network work the store needs before its first use (creating the bucket or container). The factory must not do it
/// itself: <c>Cloud.Connect</c> starts it in the background and returns at once, and the store's first operations wait
/// for it; <c>Cloud.ConnectAsync</c> awaits it. Throw <see cref="NeutralConfigurationException"/> naming the key to fix:
/// every later operation then fails with it.
/// </param>
public sealed record StoreConnection(
    IObjectStore Store,
    StoreLocation Location,
    Func<ValueTask>? Dispose = null,
    System.Collections.Generic.IReadOnlyDictionary<string, string>? WorkerEnvironment = null,
    Func<CancellationToken, Task>? Prepare = null);
