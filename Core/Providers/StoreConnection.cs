using System;
using Neutral.Wire;

namespace Neutral.Providers;

/// <summary>A store as a provider's factory returns it: the client's handle, and where workers find the same store.</summary>
/// <param name="Store">The whole store, as the client uses it (Neutral adds its own prefix and retries).</param>
/// <param name="Location">
/// How workers open it (<see cref="StoreLocation.Kind"/> is the kind the provider's worker side registers with
/// <see cref="Storage.ObjectStores"/>); never a credential.
/// </param>
/// <param name="Dispose">Releases the client's handle when the <see cref="Cloud"/> is disposed, if it needs that.</param>
public sealed record StoreConnection(IObjectStore Store, StoreLocation Location, Func<System.Threading.Tasks.ValueTask>? Dispose = null);
