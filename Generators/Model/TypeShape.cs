using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    internal enum ShapeKind
    {
        Object,
        Array,
        List,
        Set,
        Dictionary,
        Nullable,
        Tuple,
        Shared,
    }

    /// <param name="ElementTypeFq">The element type as declared (with nullable annotations), for arrays and collections.</param>
    /// <summary>A type that gets a generated codec method pair <c>Write_{Suffix}</c> / <c>Read_{Suffix}</c>.</summary>
    internal sealed record TypeShape(
        string Suffix,
        string TypeFq,
        ShapeKind Kind,
        bool IsReferenceType,
        EquatableArray<MemberShape> Members,
        int ConstructorParameterCount,
        TypeRef? Element,
        TypeRef? Value,
        string? ConcreteTypeFq,
        bool UsesCountForWrite,
        string? ElementTypeFq);

    /// <summary>A serialized member of an object or tuple shape.</summary>
    /// <param name="Name">The member name, as written in code.</param>
    /// <param name="Type">How to encode the member.</param>
    /// <param name="ConstructorIndex">The constructor parameter it is passed as, or -1 when set by initializer.</param>
    internal sealed record MemberShape(string Name, TypeRef Type, int ConstructorIndex);
}
