using System.Linq;
using Microsoft.CodeAnalysis;

namespace Neutral.Generators.Tests;

/// <summary>Every descriptor: its id, and the exact span it points at.</summary>
public sealed class DiagnosticTests
{
    private static (Diagnostic Diagnostic, string Source) Found(string source, string id)
    {
        var (_, _, diagnostics) = GeneratorHarness.Run(source);
        Diagnostic[] found = diagnostics.Where(d => d.Id == id).ToArray();
        Assert.True(found.Length == 1, $"expected one {id}, got: " + string.Join("; ", diagnostics.Select(d => d.ToString())));
        Assert.Equal(DiagnosticSeverity.Error, found[0].Severity);
        Assert.Equal("Source0.cs", found[0].Location.GetLineSpan().Path);
        Assert.True(found[0].Location.IsInSource, "a diagnostic must point into the syntax tree, or pragmas and [SuppressMessage] skip it");
        return (found[0], source);
    }

    private static Diagnostic? s_last;
    private static string? s_lastSource;

    private static Diagnostic Single(string source, string id)
    {
        (s_last, s_lastSource) = Found(source, id);
        return s_last;
    }

    // Read the span from the source given (the location's tree holds the same text).
    private static string SpanText(Diagnostic diagnostic)
    {
        Assert.Same(s_last, diagnostic);
        var span = diagnostic.Location.SourceSpan;
        return s_lastSource!.Substring(span.Start, span.Length);
    }

    private const string Usings = "using System; using System.Collections.Generic; using Neutral;\nnamespace Sample;\n";

    [Fact]
    public void NEU1001_method_not_static()
    {
        var d = Single(Usings + "public class C { [Remote] public int Run(int x) => x; }", "NEU1001");
        Assert.Equal("Run", SpanText(d));
        Assert.Contains("'Sample.C.Run' must be static", d.GetMessage());
    }

    [Fact]
    public void NEU1002_generic_method()
    {
        var d = Single(Usings + "public static class C { [Remote] public static T Run<T>(T x) => x; }", "NEU1002");
        Assert.Equal("Run", SpanText(d));
    }

    [Theory]
    [InlineData("ref int x", "ref")]
    [InlineData("out int x", "out")]
    [InlineData("in int x", "in")]
    [InlineData("params int[] x", "params")]
    public void NEU1003_by_reference_and_params_parameters(string parameter, string modifier)
    {
        string body = modifier == "out" ? "{ x = 0; }" : "{ }";
        var d = Single(Usings + $"public static class C {{ [Remote] public static void Run({parameter}) {body} }}", "NEU1003");
        Assert.Equal("x", SpanText(d));
        Assert.Contains("declared " + modifier, d.GetMessage());
    }

    [Fact]
    public void NEU1003_pointer_parameters()
    {
        var d = Single(Usings + "public static unsafe class C { [Remote] public static void Run(int* p) { } }", "NEU1003");
        Assert.Equal("p", SpanText(d));
    }

    [Fact]
    public void NEU1004_names_the_parameter_and_the_member_path()
    {
        var d = Single(Usings + """
            public sealed class Holder { public System.Threading.Thread? Worker { get; set; } }
            public static class C { [Remote] public static void Run(int ok, Holder holder) { } }
            """, "NEU1004");
        Assert.Equal("holder", SpanText(d));
        Assert.Contains("Parameter 'holder' of remote method 'Sample.C.Run' cannot be serialized: Holder.Worker: System.Threading.Thread is not serializable", d.GetMessage());
    }

    [Theory]
    [InlineData("object", "object is not serializable")]
    [InlineData("IDisposable", "System.IDisposable is not serializable")]
    [InlineData("int[,]", "multi-dimensional array")]
    [InlineData("List<Func<int>>", "List<Func<int>>[]: System.Func<int> is not serializable")]
    [InlineData("Node", "Node.Next: Sample.Node refers to itself; recursive types cannot be serialized")]
    [InlineData("Wrapper", "Wrapper.Items[].Inner: Sample.Shape is not serializable (an interface or abstract type")]
    [InlineData("NoCtor", "Sample.NoCtor is not serializable (no accessible constructor")]
    [InlineData("System.IO.Stream", "System.IO.Stream is not serializable; a call runs on another machine: pass the data as byte[] (or a string), or put it in the store (Cloud.Storage) and pass its key, or an ObjectChunk (key, offset, length)")]
    [InlineData("System.IO.MemoryStream", "System.IO.MemoryStream is not serializable; a call runs on another machine: pass the data as byte[]")]
    [InlineData("System.IO.StreamReader", "System.IO.StreamReader is not serializable; a call runs on another machine")]
    [InlineData("Secret", "it is not accessible to generated code")]
    public void NEU1004_unsupported_types(string type, string reason)
    {
        var d = Single(Usings + $$"""
            public sealed class Node { public int Value { get; set; } public Node? Next { get; set; } }
            public abstract class Shape { }
            public sealed record Box(Shape Inner);
            public sealed record Wrapper(List<Box> Items);
            public sealed class NoCtor { public NoCtor(string other) { } public int Value { get; set; } }
            public static class C
            {
                private sealed class Secret { }
                [Remote] public static void Run({{type}} value) { }
            }
            """, "NEU1004");
        Assert.Equal("value", SpanText(d));
        Assert.Contains(reason, d.GetMessage());
    }

    [Fact]
    public void NEU1004_shared_inside_a_type()
    {
        var d = Single(Usings + "public sealed record R(Shared<int> S); public static class C { [Remote] public static void Run(R r) { } }", "NEU1004");
        Assert.Contains("R.S: Shared<T> is supported only as a parameter", d.GetMessage());
    }

    [Theory]
    [InlineData("Shuffle<System.IO.Stream, int> shuffle", "shuffle", "shuffle.TKey: System.IO.Stream is not serializable")]
    [InlineData("Shuffle<int, System.IO.Stream> words", "words", "words.TValue: System.IO.Stream is not serializable")]
    [InlineData("ShufflePartition<System.IO.Stream, int> part", "part", "part.TKey: System.IO.Stream is not serializable")]
    [InlineData("ShufflePartition<string, Func<int>> part", "part", "part.TValue: System.Func<int> is not serializable")]
    public void NEU1004_a_shuffle_names_its_key_or_value_type(string parameter, string name, string reason)
    {
        var d = Single(Usings + $"public static class C {{ [Remote] public static void Run(int ok, {parameter}) {{ }} }}", "NEU1004");
        Assert.Equal(name, SpanText(d));
        string message = d.GetMessage();
        Assert.True(message.Contains($"Parameter '{name}' of remote method 'Sample.C.Run' cannot be serialized: {reason}", System.StringComparison.Ordinal), message);
    }

    [Fact]
    public void NEU1005_unsupported_return_type()
    {
        var d = Single(Usings + "public static class C { [Remote] public static IAsyncEnumerable<int> Run() => throw null!; }", "NEU1005");
        Assert.Equal("IAsyncEnumerable<int>", SpanText(d));
        Assert.Contains("The result of remote method 'Sample.C.Run' cannot be serialized", d.GetMessage());
    }

    [Theory]
    [InlineData("private", "private")]
    [InlineData("protected", "protected")]
    public void NEU1006_inaccessible_containing_type(string modifier, string described)
    {
        var d = Single(Usings + $"public class Outer {{ {modifier} static class Inner {{ [Remote] public static int Run(int x) => x; }} }}", "NEU1006");
        Assert.Equal("Run", SpanText(d));
        Assert.Contains($"which is {described}", d.GetMessage());
    }

    [Fact]
    public void NEU1006_file_local_type()
    {
        var d = Single(Usings + "file static class C { [Remote] public static int Run(int x) => x; }", "NEU1006");
        Assert.Contains("file-local", d.GetMessage());
    }

    [Fact]
    public void NEU1007_inaccessible_method()
    {
        var d = Single(Usings + "public static class C { [Remote] private static int Run(int x) => x; }", "NEU1007");
        Assert.Equal("Run", SpanText(d));
        Assert.Contains("is private", d.GetMessage());
    }

    [Fact]
    public void NEU1008_duplicate_id()
    {
        var d = Single(Usings + """
            public static class A { [Remote(Id = "same")] public static int Run(int x) => x; }
            public static class B { [Remote(Id = "same")] public static int Run(int x) => x; }
            """, "NEU1008");
        Assert.Equal("Run", SpanText(d));
        Assert.Contains("'same' of 'Sample.B.Run' is already used by 'Sample.A.Run'", d.GetMessage());
    }

    [Fact]
    public void NEU1009_generic_containing_type()
    {
        var d = Single(Usings + "public static class C<T> { [Remote] public static int Run(int x) => x; }", "NEU1009");
        Assert.Equal("Run", SpanText(d));
        Assert.Contains("generic type 'Sample.C<T>'", d.GetMessage());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    public void NEU1010_invalid_explicit_id(string id)
    {
        var d = Single(Usings + $"public static class C {{ [Remote(Id = \"{id}\")] public static int Run(int x) => x; }}", "NEU1010");
        Assert.Equal($"Remote(Id = \"{id}\")", SpanText(d));
    }

    [Theory]
    [InlineData("TimeoutSeconds = 0", "TimeoutSeconds = 0", "1 to 604,800 seconds")]
    [InlineData("TimeoutSeconds = -5", "TimeoutSeconds = -5", "1 to 604,800 seconds")]
    [InlineData("TimeoutSeconds = 604801", "TimeoutSeconds = 604801", "1 to 604,800 seconds")]
    [InlineData("MemoryMb = 0", "MemoryMb = 0", "at least 1 MiB")]
    [InlineData("Retries = -1", "Retries = -1", "0 to 100")]
    [InlineData("Retries = 101", "Retries = 101", "0 to 100")]
    [InlineData("Retries = 2, TimeoutSeconds = 60, MemoryMb = -128", "MemoryMb = -128", "at least 1 MiB")]
    public void NEU1012_option_out_of_range(string options, string span, string why)
    {
        var d = Single(Usings + $"public static class C {{ [Remote({options})] public static int Run(int x) => x; }}", "NEU1012");
        Assert.Equal(span, SpanText(d));
        Assert.Contains($"{span} on remote method 'Sample.C.Run' is invalid", d.GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains(why, d.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void NEU1012_reports_each_bad_option_and_the_value_a_constant_expression_comes_to()
    {
        var (result, _, diagnostics) = GeneratorHarness.Run(Usings + "public static class C { [Remote(Retries = -1, TimeoutSeconds = 60 * 0)] public static int Run(int x) => x; }");
        Diagnostic[] found = diagnostics.Where(d => d.Id == "NEU1012").OrderBy(d => d.Location.SourceSpan.Start).ToArray();
        Assert.Equal(2, found.Length);
        Assert.Contains("Retries = -1 on remote method", found[0].GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains("TimeoutSeconds = 0 on remote method", found[1].GetMessage(), System.StringComparison.Ordinal);
        // As for every error, the method gets no stub and no dispatch entry.
        Assert.DoesNotContain(result.GeneratedTrees, t => t.ToString().Contains("\"Sample.C.Run(", System.StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Retries = 0")]
    [InlineData("Retries = 100, TimeoutSeconds = 604800")]
    [InlineData("TimeoutSeconds = 1, MemoryMb = 1")]
    public void NEU1012_is_not_reported_at_the_bounds_of_the_ranges(string options)
    {
        var (result, _, diagnostics) = GeneratorHarness.Run(Usings + $"public static class C {{ [Remote({options})] public static int Run(int x) => x; }}");
        Assert.DoesNotContain(diagnostics, d => d.Id == "NEU1012");
        // The method is remotable: its function id is in the generated code (what the test above finds missing).
        Assert.Contains(result.GeneratedTrees, t => t.ToString().Contains("\"Sample.C.Run(", System.StringComparison.Ordinal));
    }

    [Fact]
    public void Every_descriptor_is_tested_and_tracked_in_the_release_file()
    {
        string[] tested = typeof(DiagnosticTests).GetMethods().Concat(typeof(RemoteArgumentAnalyzerTests).GetMethods()).Select(m => m.Name).Where(n => n.StartsWith("NEU", System.StringComparison.Ordinal)).Select(n => n[..7]).Distinct().ToArray();
        string unshipped = System.IO.File.ReadAllText(System.IO.Path.Combine(RepoRoot(), "Generators", "AnalyzerReleases.Unshipped.md"));
        foreach (string id in Neutral.Generators.Diagnostics.DiagnosticDescriptors.ById.Keys)
        {
            Assert.Contains(id, tested);
            Assert.Contains(id + " |", unshipped);
        }
    }

    [Fact]
    public void A_method_with_errors_emits_no_code_but_the_others_still_do()
    {
        var (result, output, diagnostics) = GeneratorHarness.Run(Usings + """
            public class C
            {
                [Remote] public int Bad(int x) => x;
                [Remote] public static int Good(int x) => x;
            }
            """);
        Assert.Contains(diagnostics, d => d.Id == "NEU1001");
        string stubs = result.Results[0].GeneratedSources.Single(s => s.HintName == "Sample.C.Remote.g.cs").SourceText.ToString();
        Assert.Contains("Good(", stubs);
        Assert.DoesNotContain("Bad(", stubs);
        Assert.Empty(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void A_valid_method_reports_nothing_and_gets_its_files()
    {
        // Diagnostics are reported from their own pipeline step (SuppressionTests covers pragmas, [SuppressMessage] and
        // .editorconfig): the stubs of valid methods do not depend on them.
        var (result, _, diagnostics) = GeneratorHarness.Run(Usings + "public static class C { [Remote] public static int Good(int x) => x; }");
        Assert.Empty(diagnostics);
        Assert.Equal(["Neutral.Dispatch.g.cs", "Sample.C.Remote.g.cs"], result.Results[0].GeneratedSources.Select(s => s.HintName).Order());
    }

    internal static string RepoRoot()
    {
        string dir = System.AppContext.BaseDirectory;
        while (!System.IO.File.Exists(System.IO.Path.Combine(dir, "Neutral.sln")))
        {
            dir = System.IO.Path.GetDirectoryName(dir)!;
        }

        return dir;
    }
}
