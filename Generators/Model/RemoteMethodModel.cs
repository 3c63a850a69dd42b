using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    internal enum ParameterKind
    {
        Value,
        Shared,
        Context,
        CancellationToken,
    }

    internal enum ReturnKind
    {
        Value,
        Void,
        Task,
        TaskOfT,
        ValueTask,
        ValueTaskOfT,
    }

    internal sealed record ContainingTypeModel(string Name, bool IsPublic);

    /// <param name="Name">The parameter name as written in code (with '@' where it is a keyword).</param>
    /// <param name="DeclaredTypeFq">The declared type with nullable annotations, for the stub's signature.</param>
    /// <param name="Type">How to encode it (null for context and cancellation parameters).</param>
    /// <param name="SharedElement">For Shared&lt;T&gt; parameters: how to decode T.</param>
    /// <param name="Registered">
    /// Types whose codecs library code looks up at run time (a shuffle's key and value types): the dispatch table
    /// registers them in CodecRegistry, as it does a Shared&lt;T&gt;'s T.
    /// </param>
    internal sealed record ParameterModel(string Name, string DeclaredTypeFq, ParameterKind Kind, TypeRef? Type, TypeRef? SharedElement, EquatableArray<TypeRef> Registered = default, TypeRef? ArrayElement = null);

    /// <summary>Everything the emitter needs about one [Remote] method; no Roslyn symbols.</summary>
    internal sealed record RemoteMethodModel(
        string Namespace,
        EquatableArray<ContainingTypeModel> ContainingTypes,
        string ContainingTypeFq,
        string MethodName,
        string FunctionId,
        ulong SignatureHash,
        ReturnKind ReturnKind,
        TypeRef Result,
        EquatableArray<ParameterModel> Parameters,
        EquatableArray<TypeShape> Shapes,
        int? Retries,
        int? TimeoutSeconds,
        int? MemoryMb,
        bool RetryOnException,
        EquatableArray<string> DocumentationLines,
        string CodecsClassFq);
}
