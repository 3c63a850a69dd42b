namespace Neutral.Storage;

/// <summary>
/// A store that serves another one's objects (a key-space view, retries, a wait for preparation): what
/// <see cref="ObjectStores.Find{TStore}"/> looks through to reach the store itself, for features beyond objects (a
/// Redis parameter server on the store a call names).
/// </summary>
public interface IObjectStoreWrapper
{
    /// <summary>The store this one serves.</summary>
    IObjectStore Inner { get; }
}
