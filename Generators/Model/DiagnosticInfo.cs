using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    /// <summary>A location that compares by value (a Roslyn <see cref="Location"/> holds the syntax tree).</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

        public static LocationInfo? From(Location? location) =>
            location is null || location.SourceTree is null
                ? null
                : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    /// <summary>A diagnostic to report, as values.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments);

    /// <summary>A function id and where it was declared, for the duplicate-id check.</summary>
    internal sealed record FunctionIdInfo(string FunctionId, string Method, LocationInfo? Location);

    /// <summary>
    /// What an executable's module initializer does: register the tables and providers of the assemblies it references,
    /// and, when it references <c>Neutral.Workers</c>, serve as its own local worker when started as one (NativeAOT).
    /// </summary>
    internal sealed record ExecutableModel(EquatableArray<string> Registrations, bool ServesWorkers);
}
