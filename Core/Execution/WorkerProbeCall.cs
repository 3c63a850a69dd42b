using System;
using System.Buffers;
using Neutral.Codec;
using Neutral.Workers;

namespace Neutral.Execution;

/// <summary>The client side of the probe every worker serves (<see cref="WorkerProbe"/>): a call <c>neutral doctor</c> runs as a job of one.</summary>
internal static class WorkerProbeCall
{
    private static readonly RemoteFunction<string> Function = new(WorkerProbe.FunctionId, WorkerProbe.SignatureHash,
        new RemoteFunctionOptions(Retries: 0, TimeoutSeconds: null, MemoryMb: null, RetryOnException: false), static (ref CodecReader reader) => reader.ReadNonNullString());

    /// <summary>A probe carrying <paramref name="nonce"/>, which the worker answers first.</summary>
    public static RemoteCall<string> Create(string nonce)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CodecWriter(buffer);
        writer.WriteString(nonce);
        writer.Flush();
        return new RemoteCall<string>(Function, buffer.WrittenMemory);
    }
}
