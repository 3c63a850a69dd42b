using System;
using System.Collections.Generic;
using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    // What the planner decides and the emitter writes: which files there are, what each holds, and every name that
    // generated code declares outside a method body. Plain equatable records; no Roslyn object.

    /// <summary>
    /// One containing type's file: its stubs, nested in <c>Remote</c> the way the type is nested, and its invokers. The
    /// unit of emission for stubs and invokers, so that an edit to one method's signature re-emits its type's file (and
    /// the dispatch table), and nothing else.
    /// </summary>
    /// <param name="RootPublic">Whether the root <c>Remote</c> part says <c>public</c> (a part without a modifier takes the others').</param>
    /// <param name="Classes">The stub classes from the outermost in, one per containing type.</param>
    /// <param name="MembersPublic">Whether the stubs are public: every containing type is.</param>
    internal sealed record TypeFile(
        string HintName,
        string Namespace,
        bool RootPublic,
        EquatableArray<StubClass> Classes,
        bool MembersPublic,
        string GeneratedNamespace,
        EquatableArray<PlannedMethod> Methods);

    /// <summary>A stub class mirroring one containing type.</summary>
    /// <param name="Cref">The containing type it mirrors, for its summary's <c>see cref</c>.</param>
    internal sealed record StubClass(string Name, string Cref, bool IsPublic);

    /// <summary>
    /// A method and the names of its generated members, from the method alone (never from its position): its function
    /// field in the stubs, and its invoker, awaiter and result writer in the dispatcher.
    /// </summary>
    internal sealed record PlannedMethod(RemoteMethodModel Method, string FunctionField, string Invoker, string Awaiter, string ResultWriter);

    /// <summary>One codec method pair, emitted in a file of its own.</summary>
    internal sealed record CodecFile(string HintName, string GeneratedNamespace, TypeShape Shape);

    /// <summary>The codecs a method carries: those it is the first (by id) to need.</summary>
    internal sealed record CodecCarrier(RemoteMethodModel Carrier, EquatableArray<CodecFile> Codecs);

    /// <summary>A dispatch table row: what the table itself needs of a method (not its parameters or codecs).</summary>
    internal sealed record DispatchEntry(string FunctionId, ulong SignatureHash, string Invoker, int? TimeoutSeconds, int? MemoryMb);

    /// <summary>The dispatch table: changes only when a method is added, removed or renamed, or its signature changes.</summary>
    internal sealed record DispatchFile(string HintName, string GeneratedNamespace, EquatableArray<DispatchEntry> Entries, EquatableArray<TypeRef> SharedTypes);

    /// <summary>An executable's module initializer: the tables it registers, in order, and whether it serves as a local worker.</summary>
    internal sealed record ReferencesFile(string HintName, EquatableArray<string> Registrations, bool ServesWorkers);

    /// <summary>
    /// The planner's answer for the whole assembly: every type file, the codecs each carrier method carries, the
    /// dispatch table and the table's class. Compared by value; the lookups by type and by function id are built from
    /// the same arrays and take no part in equality. Downstream, what is compared is each method's own share of it
    /// (<see cref="TypeOf"/>, <see cref="CodecsOf"/>), so a change to one type leaves the others' outputs unchanged.
    /// </summary>
    internal sealed class Plan : IEquatable<Plan>
    {
        public static readonly Plan Empty = new(EquatableArray<TypeFile>.Empty, EquatableArray<CodecCarrier>.Empty, null, null);

        private readonly Dictionary<string, TypeFile> _byType = new(StringComparer.Ordinal);
        private readonly Dictionary<string, CodecCarrier> _byCarrier = new(StringComparer.Ordinal);

        public Plan(EquatableArray<TypeFile> types, EquatableArray<CodecCarrier> codecs, DispatchFile? dispatch, string? ownTable)
        {
            Types = types;
            Codecs = codecs;
            Dispatch = dispatch;
            OwnTable = ownTable;
            foreach (TypeFile type in types)
            {
                _byType[type.Methods[0].Method.ContainingTypeFq] = type;
            }

            foreach (CodecCarrier carrier in codecs)
            {
                _byCarrier[carrier.Carrier.FunctionId] = carrier;
            }
        }

        /// <summary>One file per containing type, ordered by type.</summary>
        public EquatableArray<TypeFile> Types { get; }

        /// <summary>Every codec once, with the method that carries it.</summary>
        public EquatableArray<CodecCarrier> Codecs { get; }

        /// <summary>The dispatch table; null without methods.</summary>
        public DispatchFile? Dispatch { get; }

        /// <summary>The dispatch table class of this assembly (what an executable that serves as a worker registers first); null without methods.</summary>
        public string? OwnTable { get; }

        /// <summary>The file of the method's type when the method is the one that carries it (the first by id), else null.</summary>
        public TypeFile? TypeOf(RemoteMethodModel method) =>
            _byType.TryGetValue(method.ContainingTypeFq, out TypeFile? type) && IsSame(type.Methods[0].Method, method) ? type : null;

        /// <summary>The codecs the method carries (none unless it is the first to need them).</summary>
        public EquatableArray<CodecFile> CodecsOf(RemoteMethodModel method) =>
            _byCarrier.TryGetValue(method.FunctionId, out CodecCarrier? carrier) && IsSame(carrier.Carrier, method) ? carrier.Codecs : EquatableArray<CodecFile>.Empty;

        private static bool IsSame(RemoteMethodModel planned, RemoteMethodModel method) =>
            ReferenceEquals(planned, method)
            || (string.Equals(planned.FunctionId, method.FunctionId, StringComparison.Ordinal) && planned.Equals(method));

        public bool Equals(Plan? other) =>
            other is not null
            && (ReferenceEquals(this, other)
                || (Types.Equals(other.Types) && Codecs.Equals(other.Codecs) && Equals(Dispatch, other.Dispatch)
                    && string.Equals(OwnTable, other.OwnTable, StringComparison.Ordinal)));

        public override bool Equals(object? obj) => obj is Plan other && Equals(other);

        public override int GetHashCode() => unchecked((Types.GetHashCode() * 31) + Codecs.GetHashCode());
    }
}
