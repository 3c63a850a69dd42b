using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Neutral.Dispatch;

/// <summary>
/// The dispatch table of one assembly, generated: it decodes a call's arguments, invokes the method and encodes the
/// result, with no reflection. Generated tables register themselves with <see cref="RemoteDispatch"/>.
/// </summary>
public interface IRemoteDispatcher
{
    /// <summary>The functions this table runs.</summary>
    IReadOnlyList<RemoteFunctionInfo> Functions { get; }

    /// <summary>Runs one call and writes its encoded result to <paramref name="result"/>.</summary>
    /// <param name="functionId">The function id.</param>
    /// <param name="signatureHash">The signature hash the caller was built with.</param>
    /// <param name="arguments">The encoded arguments.</param>
    /// <param name="context">The call's context.</param>
    /// <param name="result">Where the encoded result goes.</param>
    /// <exception cref="StaleWorkerException">This table does not have the function, or has another version of it.</exception>
    /// <exception cref="Codec.CodecException">The arguments cannot be decoded.</exception>
    ValueTask InvokeAsync(string functionId, ulong signatureHash, ReadOnlyMemory<byte> arguments, RemoteContext context, IBufferWriter<byte> result);
}
