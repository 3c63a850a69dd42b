using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Neutral.Benchmarks;

/// <summary>
/// The source generator on a solution-sized input, against System.Text.Json's generator in the same run: the first run,
/// and the re-run (<c>GeneratorDriver.RunGenerators</c> on an updated compilation) after each kind of edit. Neutral's
/// input is 2,000 <c>[Remote]</c> methods in 200 types across 200 files, using 50 records; System.Text.Json's is 2,000
/// types in 200 files, all in one <c>JsonSerializerContext</c>. Both generators are loaded from their assemblies (this
/// project's generator build, and the SDK's targeting pack), so they run on the same Roslyn.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortInProcess))]
public class GeneratorBenchmarks
{
    private const int Types = 200;
    private const int MethodsPerType = 10;
    private const int Records = 50;
    private const int EditedType = 117;

    private static readonly CSharpParseOptions s_parse = new(LanguageVersion.Latest);

    private IIncrementalGenerator _neutral = null!;
    private IIncrementalGenerator _stj = null!;
    private GeneratorDriver _floorWarm = null!;
    private GeneratorDriver _signatureFloorWarm = null!;
    private CSharpCompilation _neutralInput = null!;
    private CSharpCompilation _stjInput = null!;
    private GeneratorDriver _neutralWarm = null!;
    private GeneratorDriver _stjWarm = null!;
    private SyntaxTree _neutralEdited = null!;
    private SyntaxTree _neutralBody = null!;
    private SyntaxTree _neutralSignature = null!;
    private SyntaxTree _neutralAdded = null!;
    private MetadataReference _unrelated = null!;
    private SyntaxTree _stjEdited = null!;
    private SyntaxTree _stjBody = null!;
    private SyntaxTree _stjSignature = null!;

    /// <summary>Short (3 warm-ups, 3 iterations) and in this process: no separate build of the benchmark project.</summary>
    private sealed class ShortInProcess : ManualConfig
    {
        public ShortInProcess() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    }

    [GlobalSetup]
    public void Setup()
    {
        _neutral = LoadGenerator(NeutralGeneratorPath(), "Neutral.Generators.RemoteGenerator");
        _stj = LoadGenerator(StjGeneratorPath(), "System.Text.Json.SourceGeneration.JsonSourceGenerator");

        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray();

        var neutralTrees = new List<SyntaxTree> { Tree(NeutralRecords(), "Records.cs"), Tree("public static class Program { public static void Main() { } }", "Program.cs") };
        neutralTrees.AddRange(Enumerable.Range(0, Types).Select(t => Tree(NeutralType(t), $"T{t}.cs")));
        _neutralInput = CSharpCompilation.Create(
            "Bench.Remote",
            neutralTrees,
            framework.Append(MetadataReference.CreateFromFile(typeof(RemoteAttribute).Assembly.Location)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        _neutralEdited = _neutralInput.SyntaxTrees.Single(t => t.FilePath == $"T{EditedType}.cs");
        _neutralBody = Tree(NeutralType(EditedType, body: "seed - 1"), _neutralEdited.FilePath);
        _neutralSignature = Tree(NeutralType(EditedType, seedType: "long"), _neutralEdited.FilePath);
        _neutralAdded = Tree(NeutralType(EditedType, extra: "[Remote] public static int Added(int x) => x;"), _neutralEdited.FilePath);
        _unrelated = UnrelatedReference(framework);

        var stjTrees = new List<SyntaxTree> { Tree(StjContext(), "Context.cs") };
        stjTrees.AddRange(Enumerable.Range(0, Types).Select(t => Tree(StjTypes(t), $"S{t}.cs")));
        _stjInput = CSharpCompilation.Create(
            "Bench.Json",
            stjTrees,
            framework,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        _stjEdited = _stjInput.SyntaxTrees.Single(t => t.FilePath == $"S{EditedType}.cs");
        _stjBody = Tree(StjTypes(EditedType, body: "Id - 1"), _stjEdited.FilePath);
        _stjSignature = Tree(StjTypes(EditedType, valueType: "decimal"), _stjEdited.FilePath);

        _neutralWarm = Check(Driver(_neutral).RunGenerators(_neutralInput), Types + 2);
        _floorWarm = Driver(new FloorGenerator(bindSignature: false)).RunGenerators(_neutralInput);
        _signatureFloorWarm = Driver(new FloorGenerator(bindSignature: true)).RunGenerators(_neutralInput);
        _stjWarm = Check(Driver(_stj).RunGenerators(_stjInput), Types * MethodsPerType);
    }

    // ---------------------------------------------------------------- first run (a fresh driver, a fresh compilation)

    [Benchmark]
    public GeneratorDriver Neutral_FirstRun() => Driver(_neutral).RunGenerators(_neutralInput.Clone());

    [Benchmark]
    public GeneratorDriver Stj_FirstRun() => Driver(_stj).RunGenerators(_stjInput.Clone());

    // ---------------------------------------------------------------- re-runs after one edit (the driver of the first run)

    [Benchmark]
    public GeneratorDriver Neutral_BodyEdit() => _neutralWarm.RunGenerators(_neutralInput.ReplaceSyntaxTree(_neutralEdited, _neutralBody));

    [Benchmark]
    public GeneratorDriver Neutral_SignatureEdit() => _neutralWarm.RunGenerators(_neutralInput.ReplaceSyntaxTree(_neutralEdited, _neutralSignature));

    [Benchmark]
    public GeneratorDriver Neutral_AddMethod() => _neutralWarm.RunGenerators(_neutralInput.ReplaceSyntaxTree(_neutralEdited, _neutralAdded));

    [Benchmark]
    public GeneratorDriver Neutral_AddReference() => _neutralWarm.RunGenerators(_neutralInput.AddReferences(_unrelated));

    [Benchmark]
    public GeneratorDriver Stj_BodyEdit() => _stjWarm.RunGenerators(_stjInput.ReplaceSyntaxTree(_stjEdited, _stjBody));

    [Benchmark]
    public GeneratorDriver Stj_SignatureEdit() => _stjWarm.RunGenerators(_stjInput.ReplaceSyntaxTree(_stjEdited, _stjSignature));

    [Benchmark]
    public GeneratorDriver Stj_AddReference() => _stjWarm.RunGenerators(_stjInput.AddReferences(_unrelated));

    /// <summary>The floor under any <c>ForAttributeWithMetadataName</c> generator on this input: a transform that only names the method.</summary>
    [Benchmark]
    public GeneratorDriver Floor_BodyEdit() => _floorWarm.RunGenerators(_neutralInput.ReplaceSyntaxTree(_neutralEdited, _neutralBody));

    /// <summary>The floor of a generator that needs the signature: the transform also names every parameter and result type (binding them).</summary>
    [Benchmark]
    public GeneratorDriver SignatureFloor_BodyEdit() => _signatureFloorWarm.RunGenerators(_neutralInput.ReplaceSyntaxTree(_neutralEdited, _neutralBody));

    private sealed class FloorGenerator(bool bindSignature) : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            bool bind = bindSignature;
            var names = context.SyntaxProvider.ForAttributeWithMetadataName(
                "Neutral.RemoteAttribute",
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                (ctx, _) => bind && ctx.TargetSymbol is IMethodSymbol method
                    ? method.Name + "(" + string.Join(",", method.Parameters.Select(p => p.Type.MetadataName)) + ")" + method.ReturnType.MetadataName
                    : ctx.TargetSymbol.Name);
            context.RegisterSourceOutput(names.Collect(), static (_, _) => { });
        }
    }

    // ---------------------------------------------------------------- inputs

    private static SyntaxTree Tree(string text, string path) => CSharpSyntaxTree.ParseText(text, s_parse, path: path, encoding: Encoding.UTF8);

    private static CSharpGeneratorDriver Driver(IIncrementalGenerator generator) =>
        CSharpGeneratorDriver.Create([generator.AsSourceGenerator()], parseOptions: s_parse);

    /// <summary>Fails the setup, rather than measuring nothing, when a generator reports or emits less than expected.</summary>
    private static GeneratorDriver Check(GeneratorDriver driver, int minimumFiles)
    {
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        if (result.Exception is not null || result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) || result.GeneratedSources.Length < minimumFiles)
        {
            throw new InvalidOperationException(
                $"The generator did not run as expected: {result.GeneratedSources.Length} files (expected at least {minimumFiles}), "
                + $"exception {result.Exception?.Message ?? "none"}, diagnostics: {string.Join("; ", result.Diagnostics.Take(5))}");
        }

        return driver;
    }

    private static string NeutralRecords()
    {
        var text = new StringBuilder("using System.Collections.Generic;\nnamespace Bench.Model;\n");
        for (int r = 0; r < Records; r++)
        {
            text.Append(CultureInfo.InvariantCulture, $"public sealed record R{r}(int Id, string Name, double Value, List<string> Tags, int[] Counts);\n");
        }

        return text.ToString();
    }

    private static string NeutralType(int t, string seedType = "int", string body = "seed + 1", string extra = "")
    {
        var text = new StringBuilder("using System.Collections.Generic;\nusing System.Threading.Tasks;\nusing Neutral;\nusing Bench.Model;\n");
        text.Append(CultureInfo.InvariantCulture, $"namespace Bench.N{t % 20};\npublic static class T{t}\n{{\n");
        for (int m = 0; m < MethodsPerType; m++)
        {
            int r = ((t * MethodsPerType) + m) % Records;
            string seed = m == 3 ? seedType : "int";
            string result = m == 3 ? body : "seed + " + m.ToString(CultureInfo.InvariantCulture);
            string line = (m % 3) switch
            {
                0 => $"    [Remote] public static int M{m}(R{r} input, {seed} seed, List<double> weights) => (int)({result});\n",
                1 => $"    [Remote] public static R{r} M{m}(R{r} input, {seed} seed, string label) => input with {{ Id = (int)({result}) }};\n",
                _ => $"    [Remote] public static Task<Dictionary<string, R{r}>> M{m}(string key, {seed} seed) => Task.FromResult(new Dictionary<string, R{r}>());\n",
            };
            text.Append(line);
        }

        text.Append("    ").Append(extra).Append("\n}\n");
        return text.ToString();
    }

    private static string StjContext()
    {
        var text = new StringBuilder("using System.Text.Json.Serialization;\nnamespace Bench.Json;\n");
        for (int t = 0; t < Types; t++)
        {
            for (int k = 0; k < MethodsPerType; k++)
            {
                text.Append(CultureInfo.InvariantCulture, $"[JsonSerializable(typeof(Bench.Json.N{t % 20}.C{t}_{k}))]\n");
            }
        }

        text.Append("public partial class BenchContext : JsonSerializerContext { }\n");
        return text.ToString();
    }

    private static string StjTypes(int t, string valueType = "double", string body = "Id + 1")
    {
        var text = new StringBuilder("using System.Collections.Generic;\n");
        text.Append(CultureInfo.InvariantCulture, $"namespace Bench.Json.N{t % 20};\n");
        for (int k = 0; k < MethodsPerType; k++)
        {
            string value = k == 3 ? valueType : "double";
            string compute = k == 3 ? body : "Id + " + k.ToString(CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture,
                $"public sealed class C{t}_{k} {{ public int Id {{ get; set; }} public string Name {{ get; set; }} = \"\"; public {value} Value {{ get; set; }} public List<string> Tags {{ get; set; }} = new(); public int[] Counts {{ get; set; }} = []; public int Compute() => {compute}; }}\n");
        }

        return text.ToString();
    }

    private static PortableExecutableReference UnrelatedReference(MetadataReference[] framework)
    {
        var compilation = CSharpCompilation.Create(
            "Unrelated",
            [Tree("namespace Unrelated; public static class U { public static int X => 1; }", "U.cs")],
            framework,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var stream = new MemoryStream();
        if (!compilation.Emit(stream).Success)
        {
            throw new InvalidOperationException("The unrelated reference did not compile.");
        }

        return MetadataReference.CreateFromImage(stream.ToArray());
    }

    // ---------------------------------------------------------------- the generators

    private static IIncrementalGenerator LoadGenerator(string path, string typeName)
    {
        Type type = Assembly.LoadFrom(path).GetType(typeName, throwOnError: true)!;
        return (IIncrementalGenerator)Activator.CreateInstance(type)!;
    }

    /// <summary>This repository's generator build (<c>NEUTRAL_GENERATOR</c> overrides).</summary>
    private static string NeutralGeneratorPath()
    {
        if (Environment.GetEnvironmentVariable("NEUTRAL_GENERATOR") is { Length: > 0 } overridden)
        {
            return overridden;
        }

        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Neutral.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("Neutral.sln not found above " + AppContext.BaseDirectory + "; set NEUTRAL_GENERATOR to Neutral.Generators.dll.");
        }

        string path = Path.Combine(dir, "Generators", "bin", "Release", "netstandard2.0", "Neutral.Generators.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the generator in Release first (or set NEUTRAL_GENERATOR).", path);
    }

    /// <summary>System.Text.Json's generator from the newest targeting pack of this runtime (<c>NEUTRAL_STJ_GENERATOR</c> overrides).</summary>
    private static string StjGeneratorPath()
    {
        if (Environment.GetEnvironmentVariable("NEUTRAL_STJ_GENERATOR") is { Length: > 0 } overridden)
        {
            return overridden;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll -> <root>/packs/Microsoft.NETCore.App.Ref/<version>/analyzers/dotnet/cs
        string root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        string packs = Path.Combine(root, "packs", "Microsoft.NETCore.App.Ref");
        string? found = Directory.Exists(packs)
            ? Directory.EnumerateDirectories(packs)
                .Select(d => Path.Combine(d, "analyzers", "dotnet", "cs", "System.Text.Json.SourceGeneration.dll"))
                .Where(File.Exists)
                .OrderByDescending(p => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(p))))), out Version? v) ? v : new Version(0, 0))
                .FirstOrDefault()
            : null;
        return found ?? throw new FileNotFoundException("System.Text.Json's generator was not found under " + packs + "; set NEUTRAL_STJ_GENERATOR to System.Text.Json.SourceGeneration.dll.");
    }
}
