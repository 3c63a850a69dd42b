using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Neutral.Generators.Tests;

/// <summary>An executable registers the dispatch tables of the libraries it references (NativeAOT keeps them).</summary>
public sealed class ReferencesTests
{
    internal static PortableExecutableReference Library(string name, string source)
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(source);
        Assert.Empty(diagnostics);
        using var stream = new MemoryStream();
        Assert.Equal(name, output.AssemblyName);
        var result = output.Emit(stream);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return MetadataReference.CreateFromImage(stream.ToArray());
    }

    [Fact]
    public void An_executable_registers_referenced_tables_before_main()
    {
        MetadataReference library = Library("Sample.Assembly", "using Neutral; namespace Lib; public static class F { [Remote] public static int A(int x) => x; }");
        CSharpCompilation exe = GeneratorHarness.Compilation("public static class Program { public static void Main() { } }")
            .WithAssemblyName("Sample.App")
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable))
            .AddReferences(library);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(exe, out Compilation output, out var diagnostics);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesCleanly(output);
        Snapshot.Verify(driver.GetRunResult(), ["Neutral.References.g.cs"]);
    }

    [Fact]
    public void An_executable_calls_the_registration_of_every_referenced_provider()
    {
        const string provider = """
            [assembly: Neutral.NeutralProvider(typeof(Acme.Providers.AcmeProvider))]
            namespace Acme.Providers;
            public static class AcmeProvider { public static void Register() { } }
            """;
        var (_, compiled, _) = GeneratorHarness.Run(provider);
        using var stream = new MemoryStream();
        Assert.True(compiled.WithAssemblyName("Acme.Providers").Emit(stream).Success);
        MetadataReference library = MetadataReference.CreateFromImage(stream.ToArray());
        CSharpCompilation exe = GeneratorHarness.Compilation("public static class Program { public static void Main() { } }")
            .WithAssemblyName("Sample.ProviderApp")
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable))
            .AddReferences(library);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(exe, out Compilation output, out var diagnostics);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesCleanly(output);
        string text = Assert.Single(driver.GetRunResult().GeneratedTrees).ToString();
        Assert.Contains("global::Acme.Providers.AcmeProvider.Register();", text, System.StringComparison.Ordinal);
        Snapshot.Verify(driver.GetRunResult(), ["Neutral.References.g.cs"]);
    }

    [Fact]
    public void An_executable_that_references_the_workers_serves_as_its_own_worker_after_registering_every_table()
    {
        MetadataReference library = Library("Sample.Assembly", "using Neutral; namespace Lib; public static class F { [Remote] public static int A(int x) => x; }");
        CSharpCompilation exe = GeneratorHarness.Compilation(
                "using Neutral; namespace App; public static class Program { public static void Main() { } [Remote] public static int B(int x) => x; }")
            .WithAssemblyName("Sample.WorkerApp")
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable))
            .AddReferences(library, MetadataReference.CreateFromFile(typeof(Neutral.Workers.Local.LocalWorker).Assembly.Location));
        GeneratorDriver driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(exe, out Compilation output, out var diagnostics);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesCleanly(output);
        string text = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Neutral.References.g.cs", System.StringComparison.Ordinal)).ToString();
        int own = text.IndexOf("global::Neutral.Generated.Sample_WorkerApp.NeutralDispatcher.Register();", System.StringComparison.Ordinal);
        int referenced = text.IndexOf("global::Neutral.Generated.Sample_Assembly.NeutralRegistration.Register();", System.StringComparison.Ordinal);
        int serve = text.IndexOf("global::Neutral.Workers.Local.LocalWorker.RunIfWorkerProcess();", System.StringComparison.Ordinal);
        Assert.True(own >= 0 && referenced > own && serve > referenced, text);
        Snapshot.Verify(driver.GetRunResult(), ["App.Program.Remote.g.cs", "Neutral.Dispatch.g.cs", "Neutral.References.g.cs"]);
    }

    [Fact]
    public void An_executable_without_the_workers_and_without_references_gets_no_initializer()
    {
        CSharpCompilation exe = GeneratorHarness.Compilation("using Neutral; public static class Program { public static void Main() { } [Remote] public static int B(int x) => x; }")
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        var result = GeneratorHarness.Driver().RunGenerators(exe).GetRunResult();
        Assert.DoesNotContain(result.GeneratedTrees, t => t.FilePath.EndsWith("Neutral.References.g.cs", System.StringComparison.Ordinal));
    }

    [Fact]
    public void A_library_does_not_register_its_references()
    {
        MetadataReference library = Library("Sample.Assembly", "using Neutral; namespace Lib; public static class F { [Remote] public static int A(int x) => x; }");
        CSharpCompilation other = GeneratorHarness.Compilation("namespace Other; public static class G { }").AddReferences(library);
        var result = GeneratorHarness.Driver().RunGenerators(other).GetRunResult();
        Assert.Empty(result.Results.SelectMany(r => r.GeneratedSources));
    }
}
