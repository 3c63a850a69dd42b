using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Neutral.Wire;

namespace Neutral.Storage;

/// <summary>
/// The worker side's store registry: how a worker opens the store an <see cref="InvocationEnvelope"/> names
/// (<see cref="StoreLocation.Kind"/>). Each provider registers its store kind here, from the registration the
/// generator wires into executables (<see cref="NeutralProviderAttribute"/>) or from a module initializer that a
/// worker host runs; <c>Neutral.Workers</c> registers <c>local</c>. Opened stores are cached per location: a warm
/// worker opens each store once.
/// </summary>
public static class ObjectStores
{
    private static readonly ConcurrentDictionary<string, Func<StoreLocation, IObjectStore>> s_openers = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<StoreLocation, Lazy<IObjectStore>> s_open = new();

    /// <summary>Registers how to open stores of kind <paramref name="kind"/> (idempotent: a later registration replaces an earlier one).</summary>
    public static void Register(string kind, Func<StoreLocation, IObjectStore> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(open);
        s_openers[kind] = open;
    }

    /// <summary>The store kinds this process can open, sorted.</summary>
    public static IReadOnlyList<string> Kinds => s_openers.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether stores of kind <paramref name="kind"/> can be opened here.</summary>
    public static bool IsRegistered(string kind) => s_openers.ContainsKey(kind);

    /// <summary>
    /// <paramref name="store"/> itself when it is a <typeparamref name="TStore"/>, else the first one found through the
    /// stores it wraps (<see cref="IObjectStoreWrapper"/>); null when there is none.
    /// </summary>
    public static TStore? Find<TStore>(IObjectStore store)
        where TStore : class, IObjectStore
    {
        ArgumentNullException.ThrowIfNull(store);
        for (IObjectStore? at = store; at is not null; at = (at as IObjectStoreWrapper)?.Inner)
        {
            if (at is TStore found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>The opener registered for <paramref name="kind"/>, if any (a worker host loads its assembly).</summary>
    public static Func<StoreLocation, IObjectStore>? OpenerOf(string kind) => s_openers.TryGetValue(kind, out var open) ? open : null;

    /// <summary>Opens (once per location) the store at <paramref name="location"/>.</summary>
    /// <exception cref="NotSupportedException">No provider for the store's kind is registered in this worker.</exception>
    public static IObjectStore Open(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!s_openers.TryGetValue(location.Kind, out var open))
        {
            throw new NotSupportedException(
                $"This worker cannot open a '{location.Kind}' store: no provider for it is registered here (it has {string.Join(", ", Kinds.DefaultIfEmpty("none"))}). " +
                "Reference the provider's package from the worker's project, and redeploy the worker.");
        }

        return s_open.GetOrAdd(location, l => new Lazy<IObjectStore>(() => open(l), System.Threading.LazyThreadSafetyMode.PublicationOnly)).Value;
    }
}
