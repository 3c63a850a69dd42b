namespace Neutral.Dispatch;

/// <summary>A function a dispatcher can run: its id and the signature hash it was built with.</summary>
/// <param name="Id">The function id.</param>
/// <param name="SignatureHash">The signature hash.</param>
public readonly record struct RemoteFunctionInfo(string Id, ulong SignatureHash)
{
    /// <summary>
    /// <see cref="RemoteAttribute.TimeoutSeconds"/> as set on the method, or <see langword="null"/>: a deployment gives
    /// the one cloud function that serves every method at least the largest.
    /// </summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>
    /// <see cref="RemoteAttribute.MemoryMb"/> as set on the method, or <see langword="null"/>: a deployment gives the
    /// one cloud function that serves every method at least the largest.
    /// </summary>
    public int? MemoryMb { get; init; }
}
