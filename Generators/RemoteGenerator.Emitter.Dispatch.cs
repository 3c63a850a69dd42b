using System.Globalization;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        internal static partial class Emitter
        {
            /// <summary>The assembly's dispatch table, and the registration executables that reference it call.</summary>
            public static string EmitDispatch(DispatchFile model)
            {
                var w = new SourceWriter();
                w.Block(Header);
                w.Open("namespace " + model.GeneratedNamespace);
                w.Line("/// <summary>This assembly's dispatch table: decodes a call's arguments, invokes the <c>[Remote]</c> method and encodes its result.</summary>");
                w.Line(GeneratedCode);
                w.Open("internal sealed partial class NeutralDispatcher : global::Neutral.Dispatch.IRemoteDispatcher");
                w.Line("private static readonly global::Neutral.Dispatch.RemoteFunctionInfo[] s_functions =");
                w.Line("[");
                foreach (DispatchEntry entry in model.Entries)
                {
                    // The limits a deployment sizes the function with (one function serves every method: the largest).
                    string limits = (entry.TimeoutSeconds, entry.MemoryMb) switch
                    {
                        (null, null) => "",
                        (int t, null) => $" {{ TimeoutSeconds = {t.ToString(CultureInfo.InvariantCulture)} }}",
                        (null, int m) => $" {{ MemoryMb = {m.ToString(CultureInfo.InvariantCulture)} }}",
                        (int t, int m) => $" {{ TimeoutSeconds = {t.ToString(CultureInfo.InvariantCulture)}, MemoryMb = {m.ToString(CultureInfo.InvariantCulture)} }}",
                    };
                    w.Line($"    new({Literal(entry.FunctionId)}, {Hex(entry.SignatureHash)}){limits},");
                }

                w.Line("];");
                w.Line();
                w.Line("private static int s_registered;");
                w.Line();
                w.Line("/// <summary>Registers this table (and the codecs of shared values) when the assembly loads.</summary>");
                w.Line("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                w.Open("internal static void Register()");
                w.Open("if (global::System.Threading.Interlocked.Exchange(ref s_registered, 1) != 0)");
                w.Line("return;");
                w.Close();
                w.Line();
                w.Line("global::Neutral.Dispatch.RemoteDispatch.Register(new NeutralDispatcher());");
                foreach (TypeRef shared in model.SharedTypes)
                {
                    w.Line($"global::Neutral.Codec.CodecRegistry<{shared.TypeFq}>.Register(");
                    w.Line($"    static (ref global::Neutral.Codec.CodecWriter writer, {shared.TypeFq} value) => {{ {shared.Write("value")} }},");
                    w.Line($"    static (ref global::Neutral.Codec.CodecReader reader) => {shared.ReadExpression});");
                }

                w.Close();
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Line("public global::System.Collections.Generic.IReadOnlyList<global::Neutral.Dispatch.RemoteFunctionInfo> Functions => s_functions;");
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Open("public global::System.Threading.Tasks.ValueTask InvokeAsync(string functionId, ulong signatureHash, global::System.ReadOnlyMemory<byte> arguments, global::Neutral.RemoteContext context, global::System.Buffers.IBufferWriter<byte> result)");
                w.Open("switch (functionId)");
                foreach (DispatchEntry entry in model.Entries)
                {
                    string hash = Hex(entry.SignatureHash);
                    w.Line($"case {Literal(entry.FunctionId)}:");
                    w.Line($"    return signatureHash == {hash} ? {entry.Invoker}(arguments, context, result) : throw global::Neutral.Dispatch.RemoteDispatch.Stale(functionId, signatureHash, {hash});");
                }

                w.Line("default:");
                w.Line("    throw global::Neutral.Dispatch.RemoteDispatch.Stale(functionId, signatureHash, null);");
                w.Close();
                w.Close();
                w.Close();
                w.Line();
                w.Line("/// <summary>Registers this assembly's dispatch table; executables that reference the assembly call it from their own module initializer, so that NativeAOT and trimmed builds keep it.</summary>");
                w.Line("[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
                w.Line(GeneratedCode);
                w.Open("public static class NeutralRegistration");
                w.Line("/// <summary>Registers the table (idempotent).</summary>");
                w.Line("public static void Register() => NeutralDispatcher.Register();");
                w.Close();
                w.Close();
                return w.ToString();
            }

            /// <summary>An executable registers the tables of the assemblies it references, before Main.</summary>
            public static string EmitReferences(ReferencesFile model)
            {
                var w = new SourceWriter();
                w.Block(Header);
                w.Open("namespace Neutral.Generated");
                w.Line("/// <summary>Registers the dispatch tables of referenced assemblies when this executable starts.</summary>");
                w.Line(GeneratedCode);
                w.Open("internal static class NeutralReferences");
                w.Line("/// <summary>Runs before <c>Main</c>.</summary>");
                w.Line("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                w.Open("internal static void Register()");
                foreach (string registration in model.Registrations)
                {
                    w.Line($"{registration}.Register();");
                }

                if (model.ServesWorkers)
                {
                    w.Line("// A NativeAOT process started as a local worker serves calls here and never reaches Main.");
                    w.Line("global::Neutral.Workers.Local.LocalWorker.RunIfWorkerProcess();");
                }

                w.Close();
                w.Close();
                w.Close();
                return w.ToString();
            }
        }
    }
}
