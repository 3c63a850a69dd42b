using System.Globalization;
using System.Linq;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        internal static partial class Emitter
        {
            private const string RemoteSummary = "/// <summary>Typed stubs of the <c>[Remote]</c> methods of this namespace: each returns a <see cref=\"global::Neutral.RemoteCall{TResult}\"/> to run with a <c>Cloud</c>.</summary>";

            /// <summary>
            /// One type's file: its stubs, nested in <c>Remote</c> the way the type is nested, and its invokers, a part of
            /// the dispatcher. Partial parts repeat no attribute.
            /// </summary>
            public static string EmitType(TypeFile type)
            {
                var w = new SourceWriter();
                w.Block(Header);
                bool hasNamespace = type.Namespace.Length > 0;
                if (hasNamespace)
                {
                    w.Open("namespace " + type.Namespace);
                }

                w.Line(RemoteSummary);
                w.Open((type.RootPublic ? "public " : string.Empty) + "static partial class Remote");
                for (int i = 0; i < type.Classes.Count; i++)
                {
                    StubClass stubs = type.Classes[i];
                    w.Line($"/// <summary>Remote calls of <see cref=\"{stubs.Cref}\"/>.</summary>");
                    if (i == type.Classes.Count - 1)
                    {
                        w.Line(GeneratedCode);
                    }

                    w.Open((stubs.IsPublic ? "public" : "internal") + " static partial class " + stubs.Name);
                }

                bool first = true;
                foreach (PlannedMethod method in type.Methods)
                {
                    if (!first)
                    {
                        w.Line();
                    }

                    first = false;
                    EmitStub(w, method, type.MembersPublic);
                }

                // Registered as the assembly loads, so that a client that did not submit a job can read its results.
                w.Line();
                w.Line("/// <summary>Registers these functions with <see cref=\"global::Neutral.RemoteFunctions\"/> when the assembly loads.</summary>");
                w.Line("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                w.Line($"internal static void RegisterNeutralFunctions() => global::Neutral.RemoteFunctions.Register({string.Join(", ", type.Methods.Select(m => m.FunctionField))});");

                for (int i = 0; i < type.Classes.Count; i++)
                {
                    w.Close();
                }

                w.Close();
                if (hasNamespace)
                {
                    w.Close();
                }

                w.Line();
                w.Open("namespace " + type.GeneratedNamespace);
                w.Open("partial class NeutralDispatcher");
                first = true;
                foreach (PlannedMethod method in type.Methods)
                {
                    if (!first)
                    {
                        w.Line();
                    }

                    first = false;
                    EmitInvoke(w, method);
                }

                w.Close();
                w.Close();
                return w.ToString();
            }

            private static void EmitStub(SourceWriter w, PlannedMethod planned, bool isPublic)
            {
                RemoteMethodModel method = planned.Method;
                string field = planned.FunctionField;
                string result = method.Result.TypeFq;
                w.Line($"private static readonly global::Neutral.RemoteFunction<{result}> {field} = new(");
                w.Line($"    {Literal(method.FunctionId)},");
                w.Line($"    {Hex(method.SignatureHash)},");
                w.Line($"    new global::Neutral.RemoteFunctionOptions({Nullable(method.Retries)}, {Nullable(method.TimeoutSeconds)}, {Nullable(method.MemoryMb)}, {(method.RetryOnException ? "true" : "false")}),");
                w.Line($"    static (ref global::Neutral.Codec.CodecReader reader) => {method.Result.ReadExpression});");
                w.Line();

                if (method.DocumentationLines.Count > 0)
                {
                    foreach (string line in method.DocumentationLines)
                    {
                        w.Line(line);
                    }
                }
                else
                {
                    w.Line($"/// <summary>Creates a remote call of <c>{method.ContainingTypeFq.Replace("global::", string.Empty)}.{method.MethodName.TrimStart('@')}</c>; run it with a <c>Cloud</c>.</summary>");
                }

                var values = method.Parameters.Where(p => p.Kind is ParameterKind.Value or ParameterKind.Shared).ToArray();
                string parameters = string.Join(", ", values.Select(p => p.DeclaredTypeFq + " " + p.Name));
                w.Open($"{(isPublic ? "public" : "internal")} static global::Neutral.RemoteCall<{result}> {method.MethodName}({parameters})");

                bool clash = values.Any(p => p.Name is "writer" or "buffer");
                string writer = clash ? "__writer" : "writer";
                string buffer = clash ? "__buffer" : "buffer";
                foreach (ParameterModel shared in values.Where(p => p.Kind == ParameterKind.Shared))
                {
                    w.Line($"global::System.ArgumentNullException.ThrowIfNull({shared.Name});");
                }

                w.Line($"var {buffer} = global::Neutral.Codec.PooledBuffer.Rent();");
                w.Line($"var {writer} = new global::Neutral.Codec.CodecWriter({buffer});");
                foreach (ParameterModel p in values)
                {
                    string statement = p.Type!.Write(p.Name);
                    if (clash)
                    {
                        statement = statement.Replace("ref writer", "ref __writer").Replace("writer.", "__writer.");
                    }

                    w.Line(statement);
                }

                w.Line($"{writer}.Flush();");
                w.Line($"return new global::Neutral.RemoteCall<{result}>({field}, global::Neutral.Codec.PooledBuffer.ToArrayAndReturn({buffer}));");
                w.Close();

                if (values.Any(p => p.Kind == ParameterKind.Value))
                {
                    w.Line();
                    EmitReferenceStub(w, method, field, values, isPublic, clash);
                }
            }

            /// <summary>
            /// The second overload: each value parameter a <c>RemoteArg&lt;T&gt;</c>, so that another call's result (a
            /// future of T) can stand for it; the worker reads such an argument from storage and inserts its bytes
            /// where the stub left them out. Calls of values only still bind to the first overload (identity beats a
            /// user-defined conversion).
            /// </summary>
            private static void EmitReferenceStub(SourceWriter w, RemoteMethodModel method, string field, ParameterModel[] values, bool isPublic, bool clash)
            {
                string result = method.Result.TypeFq;
                string writer = clash ? "__writer" : "writer";
                string buffer = clash ? "__buffer" : "buffer";
                w.Line($"/// <summary>");
                w.Line($"/// Creates a remote call of <c>{method.ContainingTypeFq.Replace("global::", string.Empty)}.{method.MethodName.TrimStart('@')}</c> some of whose arguments are other calls' results");
                w.Line($"/// (a <see cref=\"global::Neutral.RemoteRef{{T}}\"/> such as a future, of the parameter's type): it is launched once they have succeeded, and its worker reads them from storage.");
                w.Line($"/// </summary>");
                string parameters = string.Join(", ", values.Select(p => p.Kind != ParameterKind.Value
                    ? p.DeclaredTypeFq + " " + p.Name
                    : p.ArrayElement is not null
                        ? "global::Neutral.RemoteArrayArg<" + ElementOf(p.DeclaredTypeFq) + "> " + p.Name
                        : "global::Neutral.RemoteArg<" + p.DeclaredTypeFq + "> " + p.Name));
                w.Open($"{(isPublic ? "public" : "internal")} static global::Neutral.RemoteCall<{result}> {method.MethodName}({parameters})");
                foreach (ParameterModel shared in values.Where(p => p.Kind == ParameterKind.Shared))
                {
                    w.Line($"global::System.ArgumentNullException.ThrowIfNull({shared.Name});");
                }

                w.Line("global::System.Collections.Generic.List<global::Neutral.RemoteInput>? __neutralInputs = null;");
                w.Line($"var {buffer} = global::Neutral.Codec.PooledBuffer.Rent();");
                w.Line($"var {writer} = new global::Neutral.Codec.CodecWriter({buffer});");
                for (int n = 0; n < values.Length; n++)
                {
                    ParameterModel p = values[n];
                    string local = "__neutralValue" + n.ToString(CultureInfo.InvariantCulture);
                    string statement = p.Type!.Write(p.Kind == ParameterKind.Value ? local : p.Name);
                    if (clash)
                    {
                        statement = statement.Replace("ref writer", "ref __writer").Replace("writer.", "__writer.");
                    }

                    if (p.Kind != ParameterKind.Value)
                    {
                        w.Line(statement);
                        continue;
                    }

                    w.Open($"if ({p.Name}.TryGetValue(out var {local}))");
                    w.Line(statement);
                    w.Close();
                    if (p.ArrayElement is not { } element)
                    {
                        w.Open("else");
                        w.Line($"(__neutralInputs ??= new()).Add({p.Name}.ToInput({writer}.BytesWritten, {Literal(p.Name.TrimStart('@'))}));");
                        w.Close();
                        continue;
                    }

                    // A whole array from another call, or a fan-in: the length, then each element by value or from storage.
                    string suffix = n.ToString(CultureInfo.InvariantCulture);
                    string items = "__neutralItems" + suffix;
                    string item = "__neutralItem" + suffix;
                    string elementStatement = element.Write(item);
                    if (clash)
                    {
                        elementStatement = elementStatement.Replace("ref writer", "ref __writer").Replace("writer.", "__writer.");
                    }

                    w.Open($"else if ({p.Name}.ToInput({writer}.BytesWritten, {Literal(p.Name.TrimStart('@'))}) is {{ }} __neutralInput{suffix})");
                    w.Line($"(__neutralInputs ??= new()).Add(__neutralInput{suffix});");
                    w.Close();
                    w.Open("else");
                    w.Line($"var {items} = {p.Name}.Items!;");
                    w.Line($"{writer}.WriteLength({items}.Length);");
                    w.Open($"for (int __neutralIndex = 0; __neutralIndex < {items}.Length; __neutralIndex++)");
                    w.Open($"if ({items}[__neutralIndex].TryTake(out var {item}))");
                    w.Line(elementStatement);
                    w.Close();
                    w.Open("else");
                    w.Line($"(__neutralInputs ??= new()).Add(new global::Neutral.RemoteInput(checked((int){writer}.BytesWritten), {Literal(p.Name.TrimStart('@') + "[")} + __neutralIndex.ToString(global::System.Globalization.CultureInfo.InvariantCulture) + \"]\", {items}[__neutralIndex]));");
                    w.Close();
                    w.Close();
                    w.Close();
                }

                w.Line($"{writer}.Flush();");
                w.Line($"return new global::Neutral.RemoteCall<{result}>({field}, global::Neutral.Codec.PooledBuffer.ToArrayAndReturn({buffer}), __neutralInputs);");
                w.Close();
            }

            /// <summary>The element type of an array type as declared (<c>T[]</c> or <c>T[]?</c>).</summary>
            private static string ElementOf(string arrayTypeFq)
            {
                string type = arrayTypeFq.EndsWith("?", System.StringComparison.Ordinal) ? arrayTypeFq.Substring(0, arrayTypeFq.Length - 1) : arrayTypeFq;
                return type.EndsWith("[]", System.StringComparison.Ordinal) ? type.Substring(0, type.Length - 2) : type;
            }

            private static void EmitInvoke(SourceWriter w, PlannedMethod planned)
            {
                RemoteMethodModel method = planned.Method;
                var parameters = method.Parameters;
                var decoded = parameters.Select((p, n) => (p, n)).Where(x => x.p.Kind is ParameterKind.Value or ParameterKind.Shared).ToArray();
                bool isAsync = method.ReturnKind is ReturnKind.Task or ReturnKind.TaskOfT or ReturnKind.ValueTask or ReturnKind.ValueTaskOfT;
                bool hasShared = decoded.Any(x => x.p.Kind == ParameterKind.Shared);
                bool hasResult = method.ReturnKind is ReturnKind.Value or ReturnKind.TaskOfT or ReturnKind.ValueTaskOfT;

                w.Open($"private static global::System.Threading.Tasks.ValueTask {planned.Invoker}(global::System.ReadOnlyMemory<byte> arguments, global::Neutral.RemoteContext context, global::System.Buffers.IBufferWriter<byte> result)");
                foreach (var (p, n) in decoded)
                {
                    w.Line($"{p.Type!.TypeFq} arg{n};");
                }

                w.Line("var reader = new global::Neutral.Codec.CodecReader(arguments.Span);");
                w.Open("try");
                foreach (var (p, n) in decoded)
                {
                    w.Line($"arg{n} = {p.Type!.ReadExpression};");
                }

                w.Line("reader.EnsureEnd();");
                w.Close();
                w.Open("catch (global::Neutral.Codec.CodecException e)");
                w.Line($"throw e.ForFunction({Literal(method.FunctionId)});");
                w.Close();
                w.Line();

                string call = $"{method.ContainingTypeFq}.{method.MethodName}({string.Join(", ", parameters.Select((p, n) => p.Kind switch
                {
                    ParameterKind.Context => "context",
                    ParameterKind.CancellationToken => "context.CancellationToken",
                    _ => "arg" + n.ToString(CultureInfo.InvariantCulture),
                }))})";
                string forward = string.Join(string.Empty, decoded.Select(x => "arg" + x.n.ToString(CultureInfo.InvariantCulture) + ", "));
                if (!isAsync && !hasShared)
                {
                    if (hasResult)
                    {
                        w.Line($"{planned.ResultWriter}(result, {call});");
                    }
                    else
                    {
                        w.Line(call + ";");
                    }

                    w.Line("return default;");
                    w.Close();
                }
                else
                {
                    w.Line($"return {planned.Awaiter}({forward}context, result);");
                    w.Close();
                    w.Line();
                    string declared = string.Join(string.Empty, decoded.Select(x => x.p.Type!.TypeFq + " arg" + x.n.ToString(CultureInfo.InvariantCulture) + ", "));
                    w.Open($"private static async global::System.Threading.Tasks.ValueTask {planned.Awaiter}({declared}global::Neutral.RemoteContext context, global::System.Buffers.IBufferWriter<byte> result)");
                    foreach (var (p, n) in decoded.Where(x => x.p.Kind == ParameterKind.Shared))
                    {
                        w.Line($"await global::Neutral.Dispatch.RemoteDispatch.ResolveAsync(arg{n}, context, static (ref global::Neutral.Codec.CodecReader reader) => {p.SharedElement!.ReadExpression}).ConfigureAwait(false);");
                    }

                    string invocation = isAsync ? $"await {call}.ConfigureAwait(false)" : call;
                    w.Line(hasResult ? $"{planned.ResultWriter}(result, {invocation});" : invocation + ";");
                    w.Close();
                }

                if (hasResult)
                {
                    w.Line();
                    w.Open($"private static void {planned.ResultWriter}(global::System.Buffers.IBufferWriter<byte> output, {method.Result.NullableTypeFq} value)");
                    w.Line("var writer = new global::Neutral.Codec.CodecWriter(output);");
                    w.Line(method.Result.Write("value"));
                    w.Line("writer.Flush();");
                    w.Close();
                }
            }
        }
    }
}
