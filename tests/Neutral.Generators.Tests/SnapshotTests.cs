using System.Linq;

namespace Neutral.Generators.Tests;

/// <summary>The generated text of each shape equals its verified snapshot, and compiles without a warning.</summary>
public sealed class SnapshotTests
{
    private static void Check(string source, string[] hints, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var (result, output, diagnostics) = GeneratorHarness.Run(source);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesCleanly(output);
        Snapshot.Verify(result, hints, test);
    }

    [Fact]
    public void Primitives() => Check("""
        using System;
        using Neutral;
        namespace Sample;
        public static class Maths
        {
            /// <summary>Adds.</summary>
            /// <param name="a">The first.</param>
            /// <param name="b">The second.</param>
            [Remote] public static long Add(int a, long b) => a + b;
            [Remote] public static string Describe(bool flag, byte b, char c, double d, decimal m, string? s, DateTime t, Guid g, TimeSpan span) => "";
        }
        """, ["Neutral.Dispatch.g.cs", "Sample.Maths.Remote.g.cs"]);

    /// <summary>The README's example, verbatim: its "What is generated" excerpt is taken from this snapshot.</summary>
    [Fact]
    public void ReadmeExample() => Check("""
        using System.Threading;
        using System.Threading.Tasks;
        using Neutral;

        namespace Pricing;

        public sealed record OptionSpec(double Spot, double Strike, double Volatility);

        public static class Options
        {
            /// <summary>Prices an option by Monte Carlo.</summary>
            [Remote]
            public static double Price(OptionSpec spec, int seed, int paths) => 0;

            [Remote(Retries = 3, TimeoutSeconds = 120, MemoryMb = 1024)]
            public static async Task<long> CountWords(ObjectChunk chunk, RemoteContext context, CancellationToken cancellationToken) { await Task.Yield(); return 0; }
        }
        """, [
            "Neutral.Codecs.ObjectChunk_d24b4053.g.cs",
            "Neutral.Codecs.OptionSpec_a3f53544.g.cs",
            "Neutral.Dispatch.g.cs",
            "Pricing.Options.Remote.g.cs",
        ]);

    /// <summary>
    /// Every line of the README's generated-code excerpt (less "..." lines and trailing comments) appears, in order, in
    /// the snapshot of its example: the excerpt cannot drift from what the generator writes.
    /// </summary>
    [Fact]
    public void The_readme_excerpt_is_taken_from_the_snapshot_of_its_example()
    {
        string root = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        string readme = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "README.md"));
        string snapshot = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "tests", "Neutral.Generators.Tests", "Snapshots", "ReadmeExample.Pricing.Options.Remote.g.verified.cs"));
        const string marker = "What is generated (abridged from the snapshot `tests/Neutral.Generators.Tests/Snapshots/ReadmeExample.Pricing.Options.Remote.g.verified.cs`):";
        int at = readme.IndexOf(marker, System.StringComparison.Ordinal);
        Assert.True(at >= 0, "the README no longer introduces its excerpt with: " + marker);
        int start = readme.IndexOf("```csharp", at, System.StringComparison.Ordinal) + "```csharp".Length;
        string excerpt = readme[start..readme.IndexOf("```", start, System.StringComparison.Ordinal)];
        string[] lines = snapshot.Split('\n').Select(l => l.Trim()).ToArray();
        int next = 0;
        foreach (string raw in excerpt.Split('\n'))
        {
            int comment = raw.IndexOf("   //", System.StringComparison.Ordinal);
            string line = (comment >= 0 ? raw[..comment] : raw).Trim();
            if (line.Length == 0 || line == "// ...")
            {
                continue;
            }

            int found = System.Array.IndexOf(lines, line, next);
            Assert.True(found >= 0, $"README excerpt line not in the snapshot (or out of order): {line}");
            next = found + 1;
        }
    }

    [Fact]
    public void Records() => Check("""
        using Neutral;
        namespace Sample;
        public sealed record OptionSpec(double Spot, double Strike, double Volatility);
        public readonly record struct Point(int X, int Y);
        public enum Side : byte { Buy, Sell }
        public static class Pricing
        {
            [Remote] public static double Price(OptionSpec spec, Point at, Side side, int seed) => 0;
        }
        """, [
            "Neutral.Codecs.OptionSpec_fa95c7b0.g.cs",
            "Neutral.Codecs.Point_2b7fb244.g.cs",
            "Neutral.Dispatch.g.cs",
            "Sample.Pricing.Remote.g.cs",
        ]);

    [Fact]
    public void NestedUserTypes() => Check("""
        using Neutral;
        namespace Sample;
        public sealed class Address { public string? Street { get; set; } public int Number { get; init; } }
        public sealed record Customer(string Name, Address Home, Address? Work);
        public sealed record Order(Customer Customer, decimal Total) { public string? Note { get; init; } }
        public static class Orders
        {
            [Remote] public static Order Echo(Order order) => order;
        }
        """, [
            "Neutral.Codecs.Address_6ce9bb1a.g.cs",
            "Neutral.Codecs.Customer_e8890092.g.cs",
            "Neutral.Codecs.Order_693c28ca.g.cs",
            "Neutral.Dispatch.g.cs",
            "Sample.Orders.Remote.g.cs",
        ]);

    [Fact]
    public void CollectionsAndDictionaries() => Check("""
        using System.Collections.Generic;
        using Neutral;
        namespace Sample;
        public sealed record Item(string Key, int Count);
        public static class Bags
        {
            [Remote] public static Dictionary<string, List<Item>> Group(Item[] items, List<double> weights, IReadOnlyList<Item> more, IEnumerable<string?> names,
                IReadOnlyDictionary<int, Item?> byId, HashSet<long> seen, int[][] jagged, (int, string) pair, int? maybe) => new();
        }
        """, [
            "Neutral.Codecs.Dictionary_string_List_Item_83e2d4d6.g.cs",
            "Neutral.Codecs.HashSet_long_25b26cfd.g.cs",
            "Neutral.Codecs.IEnumerable_string_6e7c2924.g.cs",
            "Neutral.Codecs.IReadOnlyDictionary_int_Item_53968f9c.g.cs",
            "Neutral.Codecs.IReadOnlyList_Item_bb7aa688.g.cs",
            "Neutral.Codecs.Item_01fd6271.g.cs",
            "Neutral.Codecs.Item_beb222e9.g.cs",
            "Neutral.Codecs.List_Item_dc1e8875.g.cs",
            "Neutral.Codecs.int_5f91f2b3.g.cs",
            "Neutral.Codecs.int_8768c9ee.g.cs",
            "Neutral.Codecs.int_string_edda0d14.g.cs",
            "Neutral.Dispatch.g.cs",
            "Sample.Bags.Remote.g.cs",
        ]);

    [Fact]
    public void Async() => Check("""
        using System.Threading.Tasks;
        using Neutral;
        namespace Sample;
        public static class Jobs
        {
            [Remote] public static async Task<int> Count(string text) { await Task.Yield(); return text.Length; }
            [Remote] public static ValueTask<double> Half(double x) => new(x / 2);
        }
        """, ["Neutral.Dispatch.g.cs", "Sample.Jobs.Remote.g.cs"]);

    [Fact]
    public void Void() => Check("""
        using System.Threading.Tasks;
        using Neutral;
        namespace Sample;
        public static class Effects
        {
            [Remote] public static void Log(string line) { }
            [Remote] public static Task Flush(int times) => Task.CompletedTask;
            [Remote] public static ValueTask Close() => default;
        }
        """, ["Neutral.Dispatch.g.cs", "Sample.Effects.Remote.g.cs"]);

    [Fact]
    public void ContextAndCancellation() => Check("""
        using System.Threading;
        using System.Threading.Tasks;
        using Neutral;
        namespace Sample;
        public static class Words
        {
            /// <summary>Counts words.</summary>
            /// <param name="chunk">The chunk.</param>
            /// <param name="context">Omitted from the stub.</param>
            /// <param name="cancellationToken">Omitted from the stub.</param>
            [Remote(Retries = 3, TimeoutSeconds = 120, MemoryMb = 1024)]
            public static async Task<long> CountWords(ObjectChunk chunk, RemoteContext context, CancellationToken cancellationToken)
            {
                byte[]? data = await context.Storage.GetRangeAsync(chunk.Key, chunk.Offset, (int)chunk.Length, cancellationToken);
                return data?.Length ?? 0;
            }
        }
        """, ["Neutral.Codecs.ObjectChunk_d24b4053.g.cs", "Neutral.Dispatch.g.cs", "Sample.Words.Remote.g.cs"]);

    [Fact]
    public void Shared() => Check("""
        using Neutral;
        namespace Sample;
        public static class Model
        {
            [Remote] public static double Score(Shared<double[]> weights, Shared<string[]> labels, int row) => weights.Value[row];
        }
        """, ["Neutral.Codecs.string_10693dcc.g.cs", "Neutral.Dispatch.g.cs", "Sample.Model.Remote.g.cs"]);

    /// <summary>
    /// A shuffle's key and value types are registered by the dispatch table's module initializer (the shuffle finds
    /// their codecs at run time), once each although both methods use them.
    /// </summary>
    [Fact]
    public void Shuffle() => Check("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Neutral;
        namespace Sample;
        public static class WordCount
        {
            [Remote] public static async Task<ShuffleMapOutput> Map(string text, Shuffle<string, long> shuffle, RemoteContext context)
            {
                using var writer = shuffle.OpenWriter(context, combiner: static (a, b) => a + b);
                foreach (string word in text.Split(' '))
                {
                    writer.Add(word, 1);
                }

                return await writer.CompleteAsync();
            }

            [Remote] public static Task<Dictionary<string, long>> Reduce(ShufflePartition<string, long> partition, RemoteContext context) =>
                partition.CombineAsync(context, static (a, b) => a + b);
        }
        """, [
            "Neutral.Codecs.Dictionary_string_long_b6cc0ff4.g.cs",
            "Neutral.Codecs.ShuffleMapOutput_327efe01.g.cs",
            "Neutral.Codecs.ShufflePartition_string_long_7f1e3403.g.cs",
            "Neutral.Codecs.ShuffleSegment_185ad81f.g.cs",
            "Neutral.Codecs.ShuffleSegment_af4d0e53.g.cs",
            "Neutral.Codecs.Shuffle_string_long_88be4cdd.g.cs",
            "Neutral.Codecs.string_10693dcc.g.cs",
            "Neutral.Dispatch.g.cs",
            "Sample.WordCount.Remote.g.cs",
        ]);

    /// <summary>
    /// The dispatch table registers each shuffle key or value type once, whichever methods and parameters (a Shared&lt;T&gt;
    /// too) use it, and nothing for a generic parameter that is not a shuffle.
    /// </summary>
    [Fact]
    public void A_shuffle_registers_its_key_and_value_codecs_once_and_other_generic_parameters_none()
    {
        var (result, output, diagnostics) = GeneratorHarness.Run("""
            using System.Collections.Generic;
            using Neutral;
            namespace Sample;
            public static class Jobs
            {
                [Remote] public static int A(Shuffle<string, long> first, Shuffle<string, long> second) => 0;
                [Remote] public static int B(ShufflePartition<string, long> partition, Shared<string> label) => 0;
                [Remote] public static int C(Dictionary<int, double> other, List<(byte, decimal)> pairs) => 0;
            }
            """);
        Assert.True(diagnostics.IsEmpty, string.Join("\n", diagnostics));
        GeneratorHarness.AssertCompilesCleanly(output);
        string dispatch = result.Results[0].GeneratedSources.Single(s => s.HintName == "Neutral.Dispatch.g.cs").SourceText.ToString();
        string[] registered = dispatch.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("global::Neutral.Codec.CodecRegistry<", System.StringComparison.Ordinal)).ToArray();
        Assert.Equal(["global::Neutral.Codec.CodecRegistry<long>.Register(", "global::Neutral.Codec.CodecRegistry<string>.Register("], registered);
    }

    [Fact]
    public void SeveralTypesAndNamespaces() => Check("""
        using Neutral;
        namespace Alpha
        {
            public static class One { [Remote] public static int A(int x) => x; }
            public static class Two { [Remote] public static int B(int x) => x; }
        }
        namespace Beta.Gamma
        {
            internal static class Three { [Remote] internal static string C(string s) => s; }
        }
        """, ["Alpha.One.Remote.g.cs", "Alpha.Two.Remote.g.cs", "Beta.Gamma.Three.Remote.g.cs", "Neutral.Dispatch.g.cs"]);

    [Fact]
    public void NestedContainingTypes() => Check("""
        using Neutral;
        namespace Sample;
        public static class Outer
        {
            public static class Inner
            {
                [Remote] public static int Deep(int x) => x;
            }
            internal static class Hidden
            {
                [Remote] public static int Deeper(int x) => x;
            }
            [Remote] public static int Shallow(int x) => x;
        }
        """, [
            "Neutral.Dispatch.g.cs",
            "Sample.Outer+Hidden.Remote.g.cs",
            "Sample.Outer+Inner.Remote.g.cs",
            "Sample.Outer.Remote.g.cs",
        ]);

    [Fact]
    public void ExplicitIdsKeywordNamesAndGlobalNamespace() => Check("""
        using Neutral;
        public static class Top
        {
            [Remote(Id = "top/v1", RetryOnException = true)] public static int Run(int @class, string writer) => @class;
        }
        """, ["Neutral.Dispatch.g.cs", "Top.Remote.g.cs"]);
}
