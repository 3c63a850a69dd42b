using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    /// <summary>
    /// One containing type's <c>[Remote]</c> methods: the unit of emission for stubs and invokers, so that an edit to one
    /// method's signature re-emits its type's file (and the dispatch table), and nothing else.
    /// </summary>
    internal sealed record TypeModel(
        string Namespace,
        EquatableArray<ContainingTypeModel> ContainingTypes,
        string GeneratedNamespace,
        EquatableArray<RemoteMethodModel> Methods);

    /// <summary>
    /// Every type's model by containing type, and the method that carries it. Compared by reference: it is rebuilt only
    /// when a model changed, and what is compared downstream is each method's <see cref="TypeModel"/>.
    /// </summary>
    internal sealed class TypeIndex
    {
        public TypeIndex(System.Collections.Generic.Dictionary<string, TypeModel> byType) => ByType = byType;

        public System.Collections.Generic.Dictionary<string, TypeModel> ByType { get; }
    }

    /// <summary>For each method that carries codecs (the first by id to need each one), the method and its codecs.</summary>
    internal sealed class CodecIndex
    {
        public CodecIndex(System.Collections.Generic.Dictionary<string, (RemoteMethodModel Carrier, EquatableArray<CodecModel> Codecs)> byFunctionId) =>
            ByFunctionId = byFunctionId;

        public System.Collections.Generic.Dictionary<string, (RemoteMethodModel Carrier, EquatableArray<CodecModel> Codecs)> ByFunctionId { get; }
    }

    /// <summary>One codec method pair, emitted in a file of its own.</summary>
    internal sealed record CodecModel(string GeneratedNamespace, TypeShape Shape);

    /// <summary>A dispatch table row: what the table itself needs of a method (not its parameters or codecs).</summary>
    internal sealed record DispatchEntry(string FunctionId, ulong SignatureHash, string Invoker, int? TimeoutSeconds, int? MemoryMb);

    /// <summary>The dispatch table: changes only when a method is added, removed or renamed, or its signature changes.</summary>
    internal sealed record DispatchModel(string GeneratedNamespace, EquatableArray<DispatchEntry> Entries, EquatableArray<TypeRef> SharedTypes);
}
