using System;
using System.IO;
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
}
