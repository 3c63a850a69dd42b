using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Neutral.Generators.Tests;

public sealed class IncrementalTests
{
    private const string Source = """
        using System.Collections.Generic;
        using System.Threading;
        using Neutral;
        namespace Sample;
        public sealed record Item(string Key, List<int> Values, Dictionary<string, double> Weights);
        public static class Jobs
        {
            [Remote] public static int Count(Item item, Shared<int[]> table, CancellationToken cancellationToken) => item.Values.Count;
            [Remote] public static void Nothing() { }
        }
        public class Instance { [Remote] public int NotStatic() => 1; }
        """;

    private static readonly string[] Tracked =
    [
        TrackingNames.Methods, TrackingNames.Models, TrackingNames.Diagnostics, TrackingNames.AllModels, TrackingNames.AllIds, TrackingNames.Plan, TrackingNames.DuplicateIds, TrackingNames.IsExecutable, TrackingNames.Referenced, TrackingNames.References, TrackingNames.OwnTable, TrackingNames.Registrations, TrackingNames.Types, TrackingNames.Codecs, TrackingNames.Dispatch,
    ];

    [Fact]
    public void An_unrelated_edit_leaves_every_tracked_step_cached_or_unchanged()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Source);
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        CSharpCompilation second = first.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public static class Unrelated { public static int X => 1; }", GeneratorHarness.ParseOptions));
        GeneratorRunResult result = driver.RunGenerators(second).GetRunResult().Results.Single();

        foreach (string name in Tracked)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"step {name} was not tracked");
            foreach (IncrementalGeneratorRunStep step in result.TrackedSteps[name])
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} ran again: {reason}");
                }
            }
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, output.Reason.ToString()));
    }

    [Fact]
    public void An_edit_inside_a_remote_method_body_keeps_the_model_equal()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Source);
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        SyntaxTree old = first.SyntaxTrees.Single();
        SyntaxTree edited = CSharpSyntaxTree.ParseText(Source.Replace("=> item.Values.Count", "=> item.Values.Count + 0"), GeneratorHarness.ParseOptions);
        GeneratorRunResult result = driver.RunGenerators(first.ReplaceSyntaxTree(old, edited)).GetRunResult().Results.Single();
        // Diagnostics move with the text (their spans shift); the models, and so the generated code, do not.
        foreach (string name in new[] { TrackingNames.Models, TrackingNames.AllModels })
        {
            Assert.All(result.TrackedSteps[name].SelectMany(s => s.Outputs),
                o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {o.Reason}"));
        }
    }

    [Fact]
    public void An_edit_inside_a_body_binds_nothing_again_and_a_diagnostic_after_it_moves_with_the_text()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Source);
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        SyntaxTree old = first.SyntaxTrees.Single();
        // Longer text before the diagnostic's method in the same file: everything after the edit moves.
        SyntaxTree edited = CSharpSyntaxTree.ParseText(Source.Replace("=> item.Values.Count", "=> item.Values.Count + 1000 - 1000"), GeneratorHarness.ParseOptions, old.FilePath);
        CSharpCompilation second = first.ReplaceSyntaxTree(old, edited);
        GeneratorDriverRunResult run = driver.RunGenerators(second).GetRunResult();
        GeneratorRunResult result = run.Results.Single();

        // The declarations compare equal: the finder did not run, no symbol was bound, no file was written again (only
        // the diagnostic, which moved, is reported anew).
        AssertAll(result, TrackingNames.Declarations, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(result, TrackingNames.Methods, IncrementalStepRunReason.Cached);
        Assert.Equal(0, Reemitted(result));
        AssertAll(result, TrackingNames.Reported, IncrementalStepRunReason.Modified);

        // NEU1001 on Instance.NotStatic, reported in the edited tree at the method name's new position.
        Diagnostic diagnostic = result.Diagnostics.Single(d => d.Id == "NEU1001");
        Assert.Same(edited, diagnostic.Location.SourceTree);
        int start = edited.ToString().IndexOf("NotStatic", StringComparison.Ordinal);
        Assert.Equal(new Microsoft.CodeAnalysis.Text.TextSpan(start, "NotStatic".Length), diagnostic.Location.SourceSpan);
        Assert.NotEqual(old.ToString().IndexOf("NotStatic", StringComparison.Ordinal), start);
    }

    [Fact]
    public void An_edit_to_a_records_declaration_in_a_file_without_remote_methods_reemits_its_codec()
    {
        const string Record = "namespace Sample; public sealed record Point(int X, int Y);";
        const string Methods = "using Neutral; namespace Sample; public static class Geometry { [Remote] public static int Sum(Point p) => p.X + p.Y; }";
        CSharpCompilation first = GeneratorHarness.Compilation(Record, Methods);
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        string before = driver.GetRunResult().Results.Single().GeneratedSources.Where(s => s.SourceText.ToString().Contains("Point", StringComparison.Ordinal))
            .Select(s => s.SourceText.ToString()).Aggregate("", string.Concat);

        SyntaxTree old = first.SyntaxTrees.First();
        CSharpCompilation second = first.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(Record.Replace("int Y", "long Y"), GeneratorHarness.ParseOptions, old.FilePath));
        GeneratorRunResult result = driver.RunGenerators(second).GetRunResult().Results.Single();

        // The record's shape is a declaration: the finder ran, and the codec that writes Y now writes a long.
        Assert.Contains(result.TrackedSteps[TrackingNames.Declarations].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        string after = result.GeneratedSources.Where(s => s.SourceText.ToString().Contains("Point", StringComparison.Ordinal)).Select(s => s.SourceText.ToString()).Aggregate("", string.Concat);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void A_directive_an_attribute_argument_or_a_parameter_type_is_a_declaration_change_and_an_edit_in_a_body_is_not()
    {
        SyntaxTree Parse(string text) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, "/src/A.cs");
        const string Text = "using Neutral; namespace S; public static class C { [Remote(Retries = 2)] public static int F(int x) { return x; } }";
        var digest = Neutral.Generators.Helpers.DeclarationComparer.DigestOf(Parse(Text));
        Assert.Equal(digest, Neutral.Generators.Helpers.DeclarationComparer.DigestOf(Parse(Text.Replace("{ return x; }", "{ var y = x;\n  return y; }"))));
        Assert.NotEqual(digest, Neutral.Generators.Helpers.DeclarationComparer.DigestOf(Parse(Text.Replace("Retries = 2", "Retries = 3"))));
        Assert.NotEqual(digest, Neutral.Generators.Helpers.DeclarationComparer.DigestOf(Parse("#nullable disable\n" + Text)));
        Assert.NotEqual(digest, Neutral.Generators.Helpers.DeclarationComparer.DigestOf(Parse(Text.Replace("int F(int x)", "int F(long x)"))));
    }

    [Fact]
    public void Options_whose_resolvers_cannot_be_hashed_as_the_command_line_compilers_cannot_are_compared_without_them()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Source);
        first = first.WithOptions(first.Options.WithMetadataReferenceResolver(new UnhashableResolver()));
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Id == "CS8785");
        Assert.NotEmpty(driver.GetRunResult().GeneratedTrees);
        CSharpCompilation second = first.WithOptions(first.Options.WithMetadataReferenceResolver(new UnhashableResolver()));
        GeneratorRunResult result = driver.RunGenerators(second).GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        AssertAll(result, TrackingNames.Methods, IncrementalStepRunReason.Cached);
    }

    /// <summary>A resolver like the command-line compiler's: no hash (Roslyn compares resolvers itself, so equality stays).</summary>
    private sealed class UnhashableResolver : MetadataReferenceResolver
    {
        public override bool Equals(object? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => throw new NotImplementedException();

        public override System.Collections.Immutable.ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties) => [];
    }

    private static CSharpCompilation Executable(params MetadataReference[] references) =>
        GeneratorHarness.Compilation("using Neutral; namespace App; public static class Program { public static void Main() { } [Remote] public static int B(int x) => x; }")
            .WithAssemblyName("Sample.WorkerApp")
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable))
            .AddReferences(references);

    private static void AssertAll(GeneratorRunResult result, string step, params IncrementalStepRunReason[] allowed) =>
        Assert.All(result.TrackedSteps[step].SelectMany(s => s.Outputs),
            o => Assert.True(allowed.Contains(o.Reason), $"{step}: {o.Reason}"));

    private static void AssertNoOutputReemitted(GeneratorRunResult result) =>
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, output.Reason.ToString()));

    [Fact]
    public void Adding_an_unrelated_reference_reads_only_that_reference_and_reemits_nothing()
    {
        MetadataReference library = ReferencesTests.Library("Sample.Assembly", "using Neutral; namespace Lib; public static class F { [Remote] public static int A(int x) => x; }");
        MetadataReference workers = MetadataReference.CreateFromFile(typeof(Neutral.Workers.Local.LocalWorker).Assembly.Location);
        CSharpCompilation first = Executable(library, workers);
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        GeneratorRunResult before = driver.GetRunResult().Results.Single();
        Assert.Contains(before.GeneratedSources, s => s.HintName == "Neutral.References.g.cs");

        var (_, unrelatedCompilation, _) = GeneratorHarness.Run("namespace Unrelated; public static class U { public static int X => 1; }");
        using var stream = new System.IO.MemoryStream();
        Assert.True(unrelatedCompilation.WithAssemblyName("Unrelated").Emit(stream).Success);
        MetadataReference unrelated = MetadataReference.CreateFromImage(stream.ToArray());

        driver = driver.RunGenerators(first.AddReferences(unrelated));
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        var referenced = result.TrackedSteps[TrackingNames.Referenced].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        Assert.Equal(first.References.Count() + 1, referenced.Length);
        Assert.Equal(1, referenced.Count(r => r == IncrementalStepRunReason.New));
        Assert.All(referenced, r => Assert.True(r is IncrementalStepRunReason.New or IncrementalStepRunReason.Cached, r.ToString()));
        AssertAll(result, TrackingNames.References, IncrementalStepRunReason.Unchanged);
        AssertAll(result, TrackingNames.Models, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertNoOutputReemitted(result);
        Assert.Equal(
            before.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())),
            result.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())));
    }

    [Fact]
    public void An_edit_in_an_executable_reads_no_reference_again()
    {
        MetadataReference library = ReferencesTests.Library("Sample.Assembly", "using Neutral; namespace Lib; public static class F { [Remote] public static int A(int x) => x; }");
        CSharpCompilation first = Executable(library);
        GeneratorDriver driver = GeneratorHarness.Driver(track: true).RunGenerators(first);
        CSharpCompilation second = first.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public static class Unrelated { public static int X => 1; }", GeneratorHarness.ParseOptions));
        GeneratorRunResult result = driver.RunGenerators(second).GetRunResult().Results.Single();
        AssertAll(result, TrackingNames.Referenced, IncrementalStepRunReason.Cached);
        AssertAll(result, TrackingNames.IsExecutable, IncrementalStepRunReason.Unchanged);
        AssertAll(result, TrackingNames.References, IncrementalStepRunReason.Cached);
        AssertNoOutputReemitted(result);
    }

    // ------------------------------------------------------------ at scale: many types, one edit

    private const int TypeCount = 12;

    private static string TypeSource(int i, string extra = "", string yType = "int", string body = "x + y") => $$"""
        using Neutral;
        namespace Scale.N{{i % 3}};
        public static class T{{i}}
        {
            [Remote] public static int A(int x, {{yType}} y) => {{body}};
            [Remote] public static Scale.Point B(Scale.Point p) => p;
            [Remote] public static string C(string s, System.Collections.Generic.List<Scale.Point> points) => s;
            {{extra}}
        }
        """;

    private const string Shared = "namespace Scale; public sealed record Point(double X, double Y);";

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) ScaleRun()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation([Shared, .. Enumerable.Range(0, TypeCount).Select(i => TypeSource(i))]);
        return (GeneratorHarness.Driver(track: true).RunGenerators(compilation), compilation);
    }

    /// <summary>Runs after replacing type <paramref name="index"/>'s file; returns the run and the hint names whose text changed.</summary>
    private static (GeneratorRunResult Result, string[] Changed) Edit(int index, string source)
    {
        var (driver, compilation) = ScaleRun();
        GeneratorRunResult before = driver.GetRunResult().Results.Single();
        SyntaxTree old = compilation.SyntaxTrees.ElementAt(index + 1);
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions, path: old.FilePath));
        GeneratorRunResult after = driver.RunGenerators(edited).GetRunResult().Results.Single();
        Assert.Empty(after.Diagnostics);
        var previous = before.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        string[] changed = after.GeneratedSources
            .Where(s => !previous.TryGetValue(s.HintName, out string? text) || text != s.SourceText.ToString())
            .Select(s => s.HintName).Concat(previous.Keys.Except(after.GeneratedSources.Select(s => s.HintName)))
            .OrderBy(h => h, StringComparer.Ordinal).ToArray();
        return (after, changed);
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    /// <summary>
    /// How many output actions ran again and wrote a file (an output step that is not cached ran its action; its value
    /// is the pair of the sources it added and its diagnostics, and entries that carry nothing add no source).
    /// </summary>
    private static int Reemitted(GeneratorRunResult result) =>
        result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(step => step.Outputs)
            .Count(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)
                && o.Value is System.Runtime.CompilerServices.ITuple { Length: > 0 } pair && pair[0] is IEnumerable sources && sources.Cast<object>().Any());

    [Fact]
    public void A_body_edit_in_one_of_many_types_reemits_nothing()
    {
        var (result, changed) = Edit(4, TypeSource(4, body: "x - y + 1"));
        Assert.Empty(changed);
        Assert.All(Reasons(result, TrackingNames.Models), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        foreach (string step in new[] { TrackingNames.AllModels, TrackingNames.Plan, TrackingNames.Types, TrackingNames.Codecs, TrackingNames.Dispatch })
        {
            Assert.All(Reasons(result, step), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        }

        Assert.Equal(0, Reemitted(result));
    }

    [Fact]
    public void A_signature_edit_in_one_of_many_types_reemits_that_type_and_the_dispatch_table_only()
    {
        var (result, changed) = Edit(7, TypeSource(7, yType: "long", body: "(int)(x + y)"));
        Assert.Equal(["Neutral.Dispatch.g.cs", "Scale.N1.T7.Remote.g.cs"], changed);
        // One entry per method: each type's first method carries its model, the others null.
        IncrementalStepRunReason[] types = Reasons(result, TrackingNames.Types);
        Assert.Equal(TypeCount * 3, types.Length);
        Assert.Equal(1, types.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(TypeCount * 3 - 1, types.Count(r => r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached));
        Assert.All(Reasons(result, TrackingNames.Codecs), r => Assert.True(r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, r.ToString()));
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.Plan));
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.Dispatch));
        Assert.Equal(2, Reemitted(result));
        // Only the edited file was parsed again: the others' methods depend on no method of it.
        IncrementalStepRunReason[] trees = Reasons(result, TrackingNames.Trees);
        Assert.True(trees.Length >= TypeCount, string.Join(", ", trees));
        Assert.Equal(1, trees.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(trees.Length - 1, trees.Count(r => r == IncrementalStepRunReason.Cached));
    }

    [Fact]
    public void Adding_a_method_rewrites_no_other_type_file()
    {
        var (result, changed) = Edit(3, TypeSource(3, extra: "[Remote] public static int D(int x) => x;"));
        Assert.Equal(["Neutral.Dispatch.g.cs", "Scale.N0.T3.Remote.g.cs"], changed);
        IncrementalStepRunReason[] types = Reasons(result, TrackingNames.Types);
        Assert.Equal(1, types.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, types.Count(r => r == IncrementalStepRunReason.New));
        Assert.Equal(TypeCount * 3 - 1, types.Count(r => r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached));
        // The type's file and the table; the new method's own entries carry nothing and write nothing.
        Assert.Equal(2, Reemitted(result));
    }

    [Fact]
    public void Adding_a_type_that_sorts_first_adds_its_file_and_rewrites_no_other_type_file()
    {
        var (driver, compilation) = ScaleRun();
        CSharpCompilation added = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "using Neutral; namespace Scale.A; public static class First { [Remote] public static int Z(int x) => x; }", GeneratorHarness.ParseOptions, path: "First.cs"));
        GeneratorRunResult result = driver.RunGenerators(added).GetRunResult().Results.Single();
        IncrementalStepRunReason[] types = Reasons(result, TrackingNames.Types);
        Assert.Equal(1, types.Count(r => r == IncrementalStepRunReason.New));
        Assert.Equal(0, types.Count(r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.Removed));
        Assert.Equal(2, Reemitted(result));
    }

    [Fact]
    public void A_new_record_in_a_signature_adds_its_codec_file_and_keeps_the_others()
    {
        var (result, changed) = Edit(5, TypeSource(5, extra: "public sealed record Extra(int Z); [Remote] public static int E(Extra e) => e.Z;"));
        Assert.Contains(changed, h => h.StartsWith("Neutral.Codecs.Extra_", StringComparison.Ordinal));
        Assert.Equal(3, changed.Length);
        Assert.Contains("Scale.N2.T5.Remote.g.cs", changed);

        // The new method's entry carries the new codec; every other codec stays where it was.
        IncrementalStepRunReason[] codecs = Reasons(result, TrackingNames.Codecs);
        Assert.Equal(1, codecs.Count(r => r == IncrementalStepRunReason.New));
        Assert.Equal(0, codecs.Count(r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.Removed));
    }

    [Fact]
    public void A_record_edit_reaches_its_codec_although_type_analyses_are_cached_per_compilation()
    {
        // The point type's members change; the methods that use it do not. A cache that outlived its compilation would
        // keep the old codec here.
        var (driver, compilation) = ScaleRun();
        SyntaxTree old = compilation.SyntaxTrees.First();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(Shared.Replace("double Y", "decimal Y"), GeneratorHarness.ParseOptions, path: old.FilePath));
        GeneratorRunResult result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        string codec = result.GeneratedSources.Single(s => s.HintName.StartsWith("Neutral.Codecs.Point_", StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("writer.WriteDecimal(value.Y);", codec);
        Assert.DoesNotContain("WriteDouble(value.Y)", codec);
        // A type's shape is what other files' methods depend on: every file was parsed again.
        Assert.DoesNotContain(IncrementalStepRunReason.Cached, Reasons(result, TrackingNames.Trees));
    }

    [Fact]
    public void The_model_graph_holds_no_symbol_syntax_compilation_or_location()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(Source);
        GeneratorRunResult result = GeneratorHarness.Driver(track: true).RunGenerators(compilation).GetRunResult().Results.Single();
        foreach (string name in Tracked)
        {
            // The diagnostics inputs keep a real source Location (so that pragmas and [SuppressMessage] apply), and
            // nothing else Roslyn's; every step that code is emitted from holds none at all.
            bool diagnosticsOnly = s_diagnosticSteps.Contains(name);
            foreach (IncrementalGeneratorRunStep step in result.TrackedSteps[name])
            {
                foreach (var (value, _) in step.Outputs)
                {
                    AssertNoRoslynObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance), allowLocation: diagnosticsOnly);
                }
            }
        }
    }

    private static readonly HashSet<string> s_diagnosticSteps = [TrackingNames.Methods, TrackingNames.Diagnostics, TrackingNames.AllIds, TrackingNames.DuplicateIds];

    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> seen, bool allowLocation = false)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        if (allowLocation && value is Location location)
        {
            Assert.True(location.IsInSource, $"{path} holds a location outside the syntax trees");
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location or SyntaxTree,
            $"{path} holds a {value.GetType().Name}");
        if (value.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(System.Collections.Immutable.ImmutableArray<>)
            && (bool)type.GetProperty(nameof(System.Collections.Immutable.ImmutableArray<int>.IsDefault))!.GetValue(value)!)
        {
            // A default array (an EquatableArray left at default, which reads as empty) holds nothing, and cannot be enumerated.
            return;
        }

        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                AssertNoRoslynObjects(item, $"{path}[{i++}]", seen, allowLocation);
            }
        }

        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoRoslynObjects(field.GetValue(value), path + "." + field.Name, seen, allowLocation);
        }
    }

    private static GeneratorRunResult TrackedRun(string source) =>
        GeneratorHarness.Driver(track: true).RunGenerators(GeneratorHarness.Compilation(source)).GetRunResult().Results.Single();

    private static T[] Values<T>(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => (T)o.Value).ToArray();

    [Fact]
    public void The_plan_is_a_value_of_the_models_alone()
    {
        // Separate runs over equal text: other model instances, an equal plan (so a re-plan that comes out the same stops
        // the pipeline there), whatever the order the models come in; a signature change is a different plan.
        GeneratorRunResult one = TrackedRun(Source);
        Model.Plan first = Assert.Single(Values<Model.Plan>(one, TrackingNames.Plan));
        Model.Plan second = Assert.Single(Values<Model.Plan>(TrackedRun(Source), TrackingNames.Plan));
        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        var models = Values<Model.RemoteMethodModel>(one, TrackingNames.Models);
        Assert.Equal(first, RemoteGenerator.Planner.PlanOf([.. models.Reverse()], default));
        Assert.NotEqual(first, Assert.Single(Values<Model.Plan>(TrackedRun(Source.Replace("void Nothing()", "void Nothing(int x)")), TrackingNames.Plan)));
        Assert.Same(Model.Plan.Empty, RemoteGenerator.Planner.PlanOf([], default));
    }

    [Fact]
    public void The_planner_drops_a_duplicate_id_and_reports_it_from_its_own_step_with_the_real_location()
    {
        GeneratorRunResult result = TrackedRun("""
            using Neutral;
            namespace S;
            public static class A { [Remote(Id = "same")] public static int Run(int x) => x; }
            public static class B { [Remote(Id = "same")] public static int Run(int x) => x; }
            """);
        Model.Plan plan = Assert.Single(Values<Model.Plan>(result, TrackingNames.Plan));
        Assert.Equal(["same"], plan.Dispatch!.Entries.Select(e => e.FunctionId));
        Assert.Equal(["S.A.Remote.g.cs"], plan.Types.Select(t => t.HintName));
        Assert.Equal(["Neutral.Dispatch.g.cs", "S.A.Remote.g.cs"], result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));

        var duplicates = Assert.Single(Values<Neutral.Generators.Helpers.EquatableArray<Model.DiagnosticInfo>>(result, TrackingNames.DuplicateIds));
        Model.DiagnosticInfo duplicate = Assert.Single(duplicates);
        Assert.Equal("NEU1008", duplicate.Id);
        Assert.Equal(["same", "S.B.Run", "S.A.Run"], duplicate.Arguments);
        Assert.True(duplicate.Location is { IsInSource: true }, "a duplicate id keeps its source location (for #pragma)");
        Assert.Equal(duplicate.Location.SourceSpan, Assert.Single(result.Diagnostics, d => d.Id == "NEU1008").Location.SourceSpan);
    }

    [Fact]
    public void The_output_does_not_depend_on_the_order_of_declarations()
    {
        const string a = "using Neutral; namespace S; public static class A { [Remote] public static int X(int v) => v; }";
        const string b = "using Neutral; namespace S; public static class B { [Remote] public static string Y(string v) => v; }";
        var one = GeneratorHarness.Run(a, b).Result.Results[0].GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())).ToArray();
        var two = GeneratorHarness.Run(b, a).Result.Results[0].GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())).ToArray();
        Assert.Equal(one.OrderBy(x => x.HintName), two.OrderBy(x => x.HintName));
    }

    [Fact]
    public void The_generator_codec_version_equals_the_runtime_codec_version() =>
        Assert.Equal(Neutral.Codec.CodecInfo.Version, RemoteGenerator.CodecVersion);
}
