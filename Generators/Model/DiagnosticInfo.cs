using Microsoft.CodeAnalysis;
using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    /// <summary>
    /// A diagnostic to report. It keeps the real source <see cref="Microsoft.CodeAnalysis.Location"/> (as System.Text.Json's
    /// generator does): the driver checks <c>#pragma warning</c>, <c>[SuppressMessage]</c> and .editorconfig severities
    /// only against a location in a syntax tree of the compilation, and a location rebuilt from a file path and span is
    /// an external one. Only the diagnostics pipeline carries it; the models that code is emitted from hold no location.
    /// A source location compares by syntax tree and span, so an edit elsewhere leaves it equal.
    /// </summary>
    internal sealed record DiagnosticInfo(string Id, Location? Location, EquatableArray<string> Arguments);

    /// <summary>A function id and where it was declared, for the duplicate-id check (a diagnostics-only input).</summary>
    internal sealed record FunctionIdInfo(string FunctionId, string Method, Location? Location);
}
