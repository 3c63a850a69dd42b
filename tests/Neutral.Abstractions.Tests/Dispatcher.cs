using System;
using System.Buffers;
using System.Threading.Tasks;
using Neutral.Dispatch;

namespace Neutral.Tests;

/// <summary>Runs a call through the generated dispatch table, as a worker would, and decodes the result as a client would.</summary>
internal static class Dispatcher
{
    public static async Task<T> RunAsync<T>(RemoteCall<T> call, RemoteContext? context = null)
    {
        var output = new ArrayBufferWriter<byte>();
        await RemoteDispatch.InvokeAsync(call.Function.Id, call.Function.SignatureHash, call.Arguments, context ?? NewContext(), output);
        return call.Function.DecodeResult(output.WrittenSpan);
    }

    public static T Run<T>(RemoteCall<T> call) => RunAsync(call).GetAwaiter().GetResult();

    public static RemoteContext NewContext(IObjectStore? store = null, int callIndex = 0) =>
        new(store ?? new MemoryStore(), "job-1", callIndex, 1);
}
