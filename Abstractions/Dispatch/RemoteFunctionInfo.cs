namespace Neutral.Dispatch;

/// <summary>A function a dispatcher can run: its id and the signature hash it was built with.</summary>
/// <param name="Id">The function id.</param>
/// <param name="SignatureHash">The signature hash.</param>
public readonly record struct RemoteFunctionInfo(string Id, ulong SignatureHash);
