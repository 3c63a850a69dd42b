using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Neutral.Generators.Tests;

/// <summary>NEU1013: another call's result passed where a stub's parameter takes another type.</summary>
public sealed class RemoteArgumentAnalyzerTests
{
    private const string Functions = """
        using System; using System.Linq; using Neutral;
        namespace Sample;
        public static class F
        {
            [Remote] public static int Square(int x) => x * x;
            [Remote] public static string Name(int id) => "n" + id;
            [Remote] public static long Sum(long[] values) => values.Sum();
            [Remote] public static string Label(string prefix, int value) => prefix + value;
        }

        """;

    /// <summary>Generates the stubs, then runs the analyzer over the whole compilation (stubs included), against Core's futures.</summary>
    private static async Task<(ImmutableArray<Diagnostic> Analyzer, ImmutableArray<Diagnostic> Compiler)> AnalyzeAsync(string uses)
    {
        CSharpCompilation input = GeneratorHarness.Compilation(Functions + uses)
            .AddReferences(MetadataReference.CreateFromFile(typeof(Cloud).Assembly.Location));
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(input, out Compilation output, out _);
        ImmutableArray<Diagnostic> analyzer = await output.WithAnalyzers([new RemoteArgumentAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        return (analyzer, output.GetDiagnostics());
    }

    private static string SpanOf(Diagnostic d, string uses)
    {
        string source = Functions + uses;
        return source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
    }

    [Fact]
    public async Task NEU1013_a_future_of_a_string_where_an_int_is_expected()
    {
        const string uses = "public static class Use { public static RemoteCall<int> Go(RemoteFuture<string> name) => Remote.F.Square(name); }";
        var (found, compiler) = await AnalyzeAsync(uses);

        Diagnostic d = Assert.Single(found);
        Assert.Equal("NEU1013", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("name", SpanOf(d, uses));
        Assert.Equal("Argument 'x' of 'Sample.Remote.F.Square' takes int, but this is the result of a remote call that returns string", d.GetMessage());
        Assert.Contains(compiler, c => c.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public async Task NEU1013_a_fan_in_of_int_futures_where_each_element_is_a_long()
    {
        const string uses = "public static class Use { public static RemoteCall<long> Go(RemoteFuture<int>[] parts) => Remote.F.Sum(parts); }";
        var (found, _) = await AnalyzeAsync(uses);

        Diagnostic d = Assert.Single(found);
        Assert.Equal("parts", SpanOf(d, uses));
        Assert.Contains("takes long (each element)", d.GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains("returns int", d.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public async Task NEU1013_names_the_parameter_of_a_named_argument_among_values()
    {
        const string uses = "public static class Use { public static RemoteCall<string> Go(RemoteFuture<string> v) => Remote.F.Label(value: v, prefix: \"p\"); }";
        var (found, _) = await AnalyzeAsync(uses);

        Diagnostic d = Assert.Single(found);
        Assert.Equal("value: v", SpanOf(d, uses));
        Assert.StartsWith("Argument 'value' of 'Sample.Remote.F.Label' takes int", d.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public async Task Futures_of_the_right_types_compile_cleanly_and_report_nothing()
    {
        const string uses = """
            public static class Use
            {
                public static RemoteCall<int> One(RemoteFuture<int> f) => Remote.F.Square(f);
                public static RemoteCall<long> FanIn(RemoteFuture<long>[] parts) => Remote.F.Sum(parts);
                public static RemoteCall<long> Whole(RemoteFuture<long[]> all) => Remote.F.Sum(all);
                public static RemoteCall<string> Mixed(RemoteFuture<string> p) => Remote.F.Label(p, 3);
                public static RemoteCall<int> Values() => Remote.F.Square(4);
            }
            """;
        var (found, compiler) = await AnalyzeAsync(uses);

        Assert.Empty(found);
        Assert.DoesNotContain(compiler, c => c.Severity >= DiagnosticSeverity.Warning);
    }
}
