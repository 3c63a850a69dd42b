using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Neutral.Dispatch;

namespace Neutral.Generators.Tests;

/// <summary>Emits the generated code to memory, loads it, and runs a call through its stub and its dispatch table.</summary>
public sealed class CompileAndRunTests
{
    [Fact]
    public void Emitted_stubs_and_dispatch_table_run_a_call()
    {
        string ns = "Emitted" + Guid.NewGuid().ToString("N");
        var (_, output, diagnostics) = GeneratorHarness.Run($$"""
            using System.Buffers;
            using System.Collections.Generic;
            using System.Linq;
            using Neutral;
            namespace {{ns}};
            public sealed record Pair(string Name, List<int> Values);
            public static class Calc
            {
                [Remote] public static Pair Sum(Pair pair, int extra) => pair with { Values = new List<int> { pair.Values.Sum() + extra } };
            }
            public static class Probe
            {
                public static string Run(RemoteContext context)
                {
                    RemoteCall<Pair> call = Remote.Calc.Sum(new Pair("p", new List<int> { 1, 2, 3 }), 10);
                    var output = new ArrayBufferWriter<byte>();
                    Neutral.Dispatch.RemoteDispatch.InvokeAsync(call.Function.Id, call.Function.SignatureHash, call.Arguments, context, output).AsTask().GetAwaiter().GetResult();
                    Pair result = call.Function.DecodeResult(output.WrittenSpan);
                    return call.Function.Id + "=" + result.Name + ":" + string.Join(",", result.Values);
                }
            }
            """);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesCleanly(output);

        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        Assembly assembly = Assembly.Load(stream.ToArray());

        object? text = assembly.GetType(ns + ".Probe")!.GetMethod("Run")!.Invoke(null, [new RemoteContext(new NullStore(), "job", 0, 1)]);
        Assert.Equal($"{ns}.Calc.Sum({ns}.Pair,int)=p:16", text);
        Assert.Contains(RemoteDispatch.Functions, f => f.Id == $"{ns}.Calc.Sum({ns}.Pair,int)");
    }

    /// <summary>
    /// A shuffle finds its key and value codecs in CodecRegistry at run time: the dispatch table's module initializer
    /// registers them. A map call and then a reduce call of each partition run through the dispatch table; without the
    /// registration the map call would throw (no codec for the key type, a record of the emitted assembly).
    /// </summary>
    [Fact]
    public void A_shuffle_round_trips_through_the_dispatch_table_with_the_codecs_it_registers()
    {
        string ns = "Emitted" + Guid.NewGuid().ToString("N");
        var (_, output, diagnostics) = GeneratorHarness.Run($$"""
            using System;
            using System.Buffers;
            using System.Collections.Generic;
            using System.Linq;
            using System.Threading.Tasks;
            using Neutral;
            namespace {{ns}};
            public sealed record Word(string Text);
            public static class Count
            {
                [Remote] public static async Task<ShuffleMapOutput> Map(string text, Shuffle<Word, long> shuffle, RemoteContext context)
                {
                    using var writer = shuffle.OpenWriter(context, combiner: static (a, b) => a + b);
                    foreach (string word in text.Split(' '))
                    {
                        writer.Add(new Word(word), 1);
                    }

                    return await writer.CompleteAsync();
                }

                [Remote] public static async Task<Dictionary<Word, long>> Reduce(ShufflePartition<Word, long> partition, RemoteContext context) =>
                    await partition.CombineAsync(context, static (a, b) => a + b);
            }
            public static class Probe
            {
                private static T Dispatch<T>(RemoteCall<T> call, RemoteContext context)
                {
                    var output = new ArrayBufferWriter<byte>();
                    Neutral.Dispatch.RemoteDispatch.InvokeAsync(call.Function.Id, call.Function.SignatureHash, call.Arguments, context, output).AsTask().GetAwaiter().GetResult();
                    return call.Function.DecodeResult(output.WrittenSpan);
                }

                public static string Run(RemoteContext context)
                {
                    var shuffle = new Shuffle<Word, long>("s1", 3);
                    ShuffleMapOutput[] maps = [Dispatch(Remote.Count.Map("to be or not to be", shuffle), context), Dispatch(Remote.Count.Map("be quick", shuffle), context)];
                    var counts = shuffle.PartitionsOf(maps).SelectMany(p => Dispatch(Remote.Count.Reduce(p), context));
                    return string.Join(",", counts.OrderBy(c => c.Key.Text, StringComparer.Ordinal).Select(c => c.Key.Text + "=" + c.Value));
                }
            }
            """);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesCleanly(output);

        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        Assembly assembly = Assembly.Load(stream.ToArray());

        var store = new MemoryStore();
        object? text = assembly.GetType(ns + ".Probe")!.GetMethod("Run")!.Invoke(null, [new RemoteContext(store, "job", 0, 1)]);
        Assert.Equal("be=3,not=1,or=1,quick=1,to=2", text);
        // Two map outputs, written under the shuffle's folder.
        Assert.Equal(2, store.Keys.Count(k => k.Contains("s1", StringComparison.Ordinal)));
        Type registry = typeof(Neutral.Codec.CodecRegistry<>).MakeGenericType(assembly.GetType(ns + ".Word")!);
        Assert.NotNull(registry.GetProperty("Write")!.GetValue(null));
        Assert.NotNull(registry.GetProperty("Read")!.GetValue(null));
    }
}
