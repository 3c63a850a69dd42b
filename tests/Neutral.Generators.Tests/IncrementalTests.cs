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
        TrackingNames.Methods, TrackingNames.Models, TrackingNames.Diagnostics, TrackingNames.AllModels, TrackingNames.AllIds, TrackingNames.IsExecutable, TrackingNames.Referenced, TrackingNames.References, TrackingNames.OwnTable,
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

    private static readonly HashSet<string> s_diagnosticSteps = [TrackingNames.Methods, TrackingNames.Diagnostics, TrackingNames.AllIds];

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
