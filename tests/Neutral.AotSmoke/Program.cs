using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral;
using Neutral.Codec;
using Neutral.Dispatch;
using Neutral.Wire;

namespace Neutral.AotSmoke;

public sealed record Sample(string Name, int[] Values, Dictionary<string, double> Weights, List<string>? Tags);

public static class Work
{
    [Remote] public static double Mean(Sample sample) => sample.Values.Average();

    [Remote] public static async Task<string> Describe(Sample sample, RemoteContext context, CancellationToken cancellationToken)
    {
        await Task.Delay(1, cancellationToken);
        return $"{sample.Name}#{context.CallIndex}:{sample.Weights.Count}";
    }

    [Remote] public static long Dot(Shared<long[]> table, int take) => table.Value.Take(take).Sum();
}

public static class Program
{
    public static async Task<int> Main()
    {
        var sample = new Sample("s", [1, 2, 3, 6], new() { ["a"] = 1 }, []);
        var store = new MemoryStore();
        var context = new RemoteContext(store, "aot", 7, 1);

        double mean = await Run(Remote.Work.Mean(sample), context);
        string text = await Run(Remote.Work.Describe(sample), context);

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CodecWriter(buffer);
        CodecRegistry<long[]>.Write!(ref writer, [10, 20, 30]);
        writer.Flush();
        await store.PutAsync("shared/t", buffer.WrittenMemory);
        long dot = await Run(Remote.Work.Dot(new Shared<long[]>("shared/t", []), 2), context);

        var envelope = WireJson.DeserializeEnvelope(WireJson.Serialize(new InvocationEnvelope
        {
            JobId = "aot", CallIndex = 1, FunctionId = "f", SignatureHash = InvocationEnvelope.FormatHash(ulong.MaxValue), Attempt = 1,
            Store = new StoreLocation("local", ".neutral", ""),
        }));

        bool stale = false;
        try
        {
            await RemoteDispatch.InvokeAsync("Missing.F()", 1, default, context, new ArrayBufferWriter<byte>());
        }
        catch (StaleWorkerException)
        {
            stale = true;
        }

        bool ok = mean == 3 && text == "s#7:1" && dot == 30 && envelope.SignatureHashValue == ulong.MaxValue && stale;
        Console.WriteLine($"{(ok ? "OK" : "FAILED")} mean={mean} text={text} dot={dot} functions={RemoteDispatch.Functions.Count}");
        return ok ? 0 : 1;
    }

    private static async Task<T> Run<T>(RemoteCall<T> call, RemoteContext context)
    {
        var output = new ArrayBufferWriter<byte>();
        await RemoteDispatch.InvokeAsync(call.Function.Id, call.Function.SignatureHash, call.Arguments, context, output);
        return call.Function.DecodeResult(output.WrittenSpan);
    }
}

internal sealed class MemoryStore : IObjectStore
{
    private readonly Dictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            _objects[key] = data.ToArray();
        }

        return Task.CompletedTask;
    }

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            return Task.FromResult(_objects.TryAdd(key, data.ToArray()));
        }
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            return Task.FromResult(_objects.TryGetValue(key, out byte[]? data) ? data : null);
        }
    }

    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The smoke test reads whole objects only.");

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        AsyncEnumerable.Empty<ObjectInfo>();

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            return Task.FromResult(_objects.Remove(key));
        }
    }
}
