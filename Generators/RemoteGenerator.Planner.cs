using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Neutral.Generators.Diagnostics;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        /// <summary>
        /// The parser's models to what gets written: which methods get code (duplicates of an id dropped, and reported as
        /// NEU1008), which file each type and codec goes in, the dispatch table's rows, and every name generated code
        /// declares. Static and pure: same models, same plan.
        /// </summary>
        internal static class Planner
        {
            public const string DispatchHintName = "Neutral.Dispatch.g.cs";

            public const string ReferencesHintName = "Neutral.References.g.cs";

            /// <summary>The whole assembly's plan; <see cref="Plan.Empty"/> without methods.</summary>
            public static Plan PlanOf(ImmutableArray<RemoteMethodModel> models, CancellationToken cancellationToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RemoteMethodModel[] methods = Unique(models);
                if (methods.Length == 0)
                {
                    return Plan.Empty;
                }

                string generatedNamespace = GeneratedNamespaceOf(methods[0]);
                return new Plan(Types(methods), Codecs(methods), Dispatch(methods, generatedNamespace), DispatcherOf(methods[0]));
            }

            /// <summary>NEU1008 for every method whose id an earlier one (by method name, then position) already has.</summary>
            public static EquatableArray<DiagnosticInfo> DuplicateIds(ImmutableArray<FunctionIdInfo> ids, CancellationToken cancellationToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var duplicates = new List<DiagnosticInfo>();
                foreach (var group in ids.GroupBy(i => i.FunctionId, StringComparer.Ordinal))
                {
                    var ordered = group.OrderBy(i => i.Method, StringComparer.Ordinal).ThenBy(i => i.Location?.SourceTree?.FilePath, StringComparer.Ordinal)
                        .ThenBy(i => i.Location?.SourceSpan.Start).ToArray();
                    for (int i = 1; i < ordered.Length; i++)
                    {
                        duplicates.Add(new DiagnosticInfo(DiagnosticDescriptors.DuplicateId.Id, ordered[i].Location,
                            new[] { ordered[i].FunctionId, ordered[i].Method, ordered[0].Method }.ToEquatableArray()));
                    }
                }

                return duplicates.ToEquatableArray();
            }

            /// <summary>
            /// An executable's module initializer, or null when it has nothing to do. One that serves as a local worker
            /// registers its own table first: the order of module initializers within an assembly is not specified.
            /// </summary>
            public static ReferencesFile? References(ExecutableModel? executable, string? ownTable)
            {
                if (executable is null || (executable.Registrations.Count == 0 && !executable.ServesWorkers))
                {
                    return null;
                }

                IEnumerable<string> own = ownTable is not null && executable.ServesWorkers ? new[] { ownTable } : Array.Empty<string>();
                return new ReferencesFile(ReferencesHintName, own.Concat(executable.Registrations).ToEquatableArray(), executable.ServesWorkers);
            }

            /// <summary>The methods that get code: sorted ordinally, duplicates of an id dropped (NEU1008 reports them).</summary>
            private static RemoteMethodModel[] Unique(ImmutableArray<RemoteMethodModel> models) =>
                models
                    .OrderBy(m => m.FunctionId, StringComparer.Ordinal)
                    .ThenBy(m => m.ContainingTypeFq, StringComparer.Ordinal)
                    .ThenBy(m => m.MethodName, StringComparer.Ordinal)
                    .GroupBy(m => m.FunctionId, StringComparer.Ordinal)
                    .Select(g => g.First())
                    .ToArray();

            private static string GeneratedNamespaceOf(RemoteMethodModel method)
            {
                string codecs = method.CodecsClassFq;
                return codecs.Substring("global::".Length, codecs.LastIndexOf('.') - "global::".Length);
            }

            /// <summary>The dispatch table class of the assembly whose methods these are.</summary>
            private static string DispatcherOf(RemoteMethodModel method)
            {
                string codecs = method.CodecsClassFq;
                return codecs.Substring(0, codecs.LastIndexOf('.')) + ".NeutralDispatcher";
            }

            /// <summary>The methods grouped by containing type, ordered by type: one file each.</summary>
            private static EquatableArray<TypeFile> Types(RemoteMethodModel[] methods) =>
                methods
                    .GroupBy(m => m.ContainingTypeFq, StringComparer.Ordinal)
                    .OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => TypeFileOf(g.OrderBy(m => m.FunctionId, StringComparer.Ordinal).ToArray()))
                    .ToEquatableArray();

            /// <summary>
            /// The root <c>Remote</c> says <c>public</c> only in the files of public types; a nested stub class, and the
            /// stubs, are public only while every type around them is.
            /// </summary>
            private static TypeFile TypeFileOf(RemoteMethodModel[] methods)
            {
                RemoteMethodModel first = methods[0];
                var classes = new List<StubClass>();
                string path = first.Namespace;
                bool isPublic = true;
                foreach (ContainingTypeModel containing in first.ContainingTypes)
                {
                    isPublic &= containing.IsPublic;
                    path = (path.Length == 0 ? string.Empty : path + ".") + containing.Name;
                    classes.Add(new StubClass(containing.Name, "global::" + path, isPublic));
                }

                string hintName = (first.Namespace.Length == 0 ? string.Empty : first.Namespace + ".")
                    + string.Join("+", first.ContainingTypes.Select(t => t.Name.TrimStart('@'))) + ".Remote.g.cs";
                return new TypeFile(
                    hintName,
                    first.Namespace,
                    first.ContainingTypes.Count > 0 && first.ContainingTypes[0].IsPublic,
                    classes.ToEquatableArray(),
                    isPublic,
                    GeneratedNamespaceOf(first),
                    methods.Select(PlannedMethodOf).ToEquatableArray());
            }

            private static PlannedMethod PlannedMethodOf(RemoteMethodModel method)
            {
                string key = MemberKey(method, withType: true);
                return new PlannedMethod(method, "s_" + MemberKey(method, withType: false), "Invoke_" + key, "Await_" + key, "WriteResult_" + key);
            }

            /// <summary>
            /// A generated member's name part for one method, from the method alone (never from its position): its type
            /// path (for the shared dispatcher), its name, and a hash of its function id, which tells overloads apart.
            /// </summary>
            private static string MemberKey(RemoteMethodModel method, bool withType)
            {
                string hash = Hashing.Fnv1a32(method.FunctionId).ToString("x8", CultureInfo.InvariantCulture);
                string name = method.MethodName.TrimStart('@');
                return withType
                    ? string.Join("_", method.ContainingTypes.Select(t => t.Name.TrimStart('@'))) + "_" + name + "_" + hash
                    : name + "_" + hash;
            }

            /// <summary>Every type that needs a codec, once, carried by the first method (by id) that needs it: one file each.</summary>
            private static EquatableArray<CodecCarrier> Codecs(RemoteMethodModel[] methods)
            {
                var carriers = new List<CodecCarrier>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (RemoteMethodModel method in methods)
                {
                    string ns = GeneratedNamespaceOf(method);
                    var carried = method.Shapes.Where(shape => seen.Add(shape.TypeFq))
                        .OrderBy(shape => shape.Suffix, StringComparer.Ordinal)
                        .Select(shape => new CodecFile("Neutral.Codecs." + shape.Suffix + ".g.cs", ns, shape))
                        .ToEquatableArray();
                    if (carried.Count > 0)
                    {
                        carriers.Add(new CodecCarrier(method, carried));
                    }
                }

                return carriers.ToEquatableArray();
            }

            /// <summary>The dispatch table's rows, one per method by id, and the shared-value codecs it registers.</summary>
            private static DispatchFile Dispatch(RemoteMethodModel[] methods, string generatedNamespace)
            {
                var shared = methods.SelectMany(m => m.Parameters)
                    .SelectMany(p => p.Kind == ParameterKind.Shared ? [p.SharedElement!, .. p.Registered] : (IEnumerable<TypeRef>)p.Registered)
                    .GroupBy(t => t.TypeFq, StringComparer.Ordinal).Select(g => g.First())
                    .OrderBy(t => t.TypeFq, StringComparer.Ordinal);
                return new DispatchFile(
                    DispatchHintName,
                    generatedNamespace,
                    methods.Select(m => new DispatchEntry(m.FunctionId, m.SignatureHash, PlannedMethodOf(m).Invoker, m.TimeoutSeconds, m.MemoryMb)).ToEquatableArray(),
                    shared.ToEquatableArray());
            }
        }
    }
}
