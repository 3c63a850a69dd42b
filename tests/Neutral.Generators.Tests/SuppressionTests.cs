using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Neutral.Generators.Tests;

/// <summary>
/// Every diagnostic the generator reports can be silenced the usual ways: <c>#pragma warning disable</c>,
/// <c>[SuppressMessage]</c> and an .editorconfig severity (they act only on a location in one of the compilation's
/// syntax trees, which is why diagnostics keep their real location).
/// </summary>
public sealed class SuppressionTests
{
    private const string Usings = "using System; using System.Collections.Generic; using System.Diagnostics.CodeAnalysis; using Neutral;\nnamespace Sample;\n";

    /// <summary>One declaration per id; <c>{0}</c> is where an attribute on the offending method goes.</summary>
    public static readonly TheoryData<string> Ids = new(
        "NEU1001", "NEU1002", "NEU1003", "NEU1004", "NEU1005", "NEU1006", "NEU1007", "NEU1008", "NEU1009", "NEU1010", "NEU1012", "NEU1013");

    private static readonly Dictionary<string, string> s_sources = new()
    {
        ["NEU1001"] = "public class C { {0} [Remote] public int Run(int x) => x; }",
        ["NEU1002"] = "public static class C { {0} [Remote] public static T Run<T>(T x) => x; }",
        ["NEU1003"] = "public static class C { {0} [Remote] public static void Run(ref int x) { } }",
        ["NEU1004"] = "public static class C { {0} [Remote] public static void Run(object value) { } }",
        ["NEU1005"] = "public static class C { {0} [Remote] public static IAsyncEnumerable<int> Run() => throw null!; }",
        ["NEU1006"] = "public class Outer { private static class Inner { {0} [Remote] public static int Run(int x) => x; } }",
        ["NEU1007"] = "public static class C { {0} [Remote] private static int Run(int x) => x; }",
        ["NEU1008"] = "public static class A { [Remote(Id = \"same\")] public static int Run(int x) => x; }\npublic static class B { {0} [Remote(Id = \"same\")] public static int Run(int x) => x; }",
        ["NEU1009"] = "public static class C<T> { {0} [Remote] public static int Run(int x) => x; }",
        ["NEU1010"] = "public static class C { {0} [Remote(Id = \"has space\")] public static int Run(int x) => x; }",
        ["NEU1012"] = "public static class C { {0} [Remote(TimeoutSeconds = 0)] public static int Run(int x) => x; }",
        ["NEU1013"] = "public static class C { [Remote] public static int Run(int x) => x; {0} public static RemoteCall<int> Use(RemoteFuture<string> f) => Remote.C.Run(f); }",
    };

    private static string Source(string id, string attribute = "") => Usings + s_sources[id].Replace("{0}", attribute);

    private static ImmutableArray<Diagnostic> Run(string source, string? editorconfig = null)
    {
        var compilation = CSharpCompilation.Create(
            "Sample.Assembly",
            [CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions, path: "/project/Source0.cs")],
            GeneratorHarness.Compilation().References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true)
                .WithSyntaxTreeOptionsProvider(editorconfig is null ? null : new EditorConfigOptions(editorconfig)));
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation.AddReferences(MetadataReference.CreateFromFile(typeof(Cloud).Assembly.Location)),
            out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        // NEU1013 comes from the analyzer, over the stubs the generator made; suppressed ones come back marked.
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: true);
        return diagnostics.AddRange(output.WithAnalyzers([new RemoteArgumentAnalyzer()], options).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult());
    }

    /// <summary>The diagnostics of that id that still count (reported and not suppressed).</summary>
    private static Diagnostic[] Effective(ImmutableArray<Diagnostic> diagnostics, string id) =>
        diagnostics.Where(d => d.Id == id && !d.IsSuppressed && d.Severity != DiagnosticSeverity.Hidden).ToArray();

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_diagnostic_is_reported_without_a_suppression(string id) =>
        Assert.Single(Effective(Run(Source(id)), id));

    [Theory]
    [MemberData(nameof(Ids))]
    public void A_pragma_suppresses_each_diagnostic(string id)
    {
        var diagnostics = Run($"#pragma warning disable {id}\n" + Source(id));
        Assert.Empty(Effective(diagnostics, id));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void A_pragma_restored_before_the_method_does_not_suppress(string id)
    {
        var diagnostics = Run($"#pragma warning disable {id}\n#pragma warning restore {id}\n" + Source(id));
        Assert.Single(Effective(diagnostics, id));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void SuppressMessage_on_the_method_suppresses_each_diagnostic(string id)
    {
        var diagnostics = Run(Source(id, $"[SuppressMessage(\"Neutral\", \"{id}:Justified\", Justification = \"test\")]"));
        Assert.Empty(Effective(diagnostics, id));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void An_editorconfig_severity_of_none_suppresses_each_diagnostic(string id)
    {
        var diagnostics = Run(Source(id), $"root = true\n[*.cs]\ndotnet_diagnostic.{id}.severity = none\n");
        Assert.Empty(Effective(diagnostics, id));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void An_editorconfig_severity_of_warning_turns_each_error_into_a_warning_at_the_same_span(string id)
    {
        var baseline = Assert.Single(Effective(Run(Source(id)), id));
        var diagnostics = Run(Source(id), $"root = true\n[*.cs]\ndotnet_diagnostic.{id}.severity = warning\n");
        Diagnostic d = Assert.Single(Effective(diagnostics, id));
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal(baseline.Location.SourceSpan, d.Location.SourceSpan);
        Assert.True(d.Location.IsInSource, "the diagnostic should point into the syntax tree");
    }

    [Fact]
    public void A_global_config_severity_suppresses_a_diagnostic() =>
        Assert.Empty(Effective(Run(Source("NEU1004"), "is_global = true\ndotnet_diagnostic.NEU1004.severity = none\n"), "NEU1004"));

    [Fact]
    public void Every_descriptor_has_a_suppression_case() =>
        Assert.Equal(Neutral.Generators.Diagnostics.DiagnosticDescriptors.ById.Keys.OrderBy(k => k), s_sources.Keys.OrderBy(k => k));

    /// <summary>Reads .editorconfig text the way the compiler does (AnalyzerConfigSet) for the compilation's trees.</summary>
    private sealed class EditorConfigOptions : SyntaxTreeOptionsProvider
    {
        private readonly AnalyzerConfigSet _set;

        public EditorConfigOptions(string text)
        {
            _set = AnalyzerConfigSet.Create(ImmutableArray.Create(AnalyzerConfig.Parse(text, text.StartsWith("is_global", System.StringComparison.Ordinal) ? "/project/.globalconfig" : "/project/.editorconfig")));
        }

        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

        public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity) =>
            _set.GetOptionsForSourcePath(tree.FilePath).TreeOptions.TryGetValue(diagnosticId, out severity);

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity) =>
            _set.GlobalConfigOptions.TreeOptions.TryGetValue(diagnosticId, out severity);
    }
}
