namespace Neutral;

/// <summary>An object found by <see cref="IObjectStore.ListAsync"/>.</summary>
/// <param name="Key">The object's key, relative to the store's root.</param>
/// <param name="Size">The object's size in bytes.</param>
public sealed record ObjectInfo(string Key, long Size);
