using System;

namespace Neutral.Generators.Model
{
    /// <summary>
    /// How generated code encodes and decodes one type: a write statement (with <c>{0}</c> for the value, writer
    /// variable <c>writer</c>) and a read expression (reader variable <c>reader</c>), both pre-rendered.
    /// </summary>
    internal sealed record TypeRef(
        string TypeFq,
        string WriteFormat,
        string ReadExpression,
        int MinimumSize,
        bool IsReferenceType)
    {
        /// <summary>The type as a parameter or local that may hold null: <c>T?</c> for reference types.</summary>
        public string NullableTypeFq => IsReferenceType && !TypeFq.EndsWith("?", System.StringComparison.Ordinal) ? TypeFq + "?" : TypeFq;

        public string Write(string value) => WriteFormat.Replace("{0}", value);
    }
}
