using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Neutral;

namespace Neutral.Tests.Fixtures;

public enum Color : byte { Red, Green, Blue = 200 }

public enum Big : long { Min = long.MinValue, Max = long.MaxValue }

public sealed record OptionSpec(double Spot, double Strike, double Rate, double Volatility, double Maturity);

public sealed record Person(string Name, int Age, string? Email, DateTime Born, Color Favourite, decimal Balance);

public sealed class Settable
{
    public int Count { get; set; }
    public string? Label { get; init; }
    public List<int>? Values { get; set; }
    public int Derived => Count * 2;
}

public readonly record struct Point(double X, double Y);

public struct MutablePoint
{
    public int X;
    public int Y { get; set; }
}

public sealed record Line(Point From, Point To, string? Name);

public sealed record Nested(Person Owner, Line[] Lines, Dictionary<string, Point> Named, List<Person?> Friends);

public sealed record Everything(
    bool B, byte U8, sbyte I8, short I16, ushort U16, char C, int I32, uint U32, long I64, ulong U64,
    float F32, double F64, decimal D, string? S, DateTime Dt, DateTimeOffset Dto, TimeSpan Ts, Guid G,
    DateOnly Day, TimeOnly Time, Color Color, Big Big, int? MaybeInt, Point? MaybePoint);

public sealed record Collections(
    int[]? Ints, double[] Doubles, string?[] Strings, List<long> Longs, List<string> Names,
    IReadOnlyList<Point> Points, IEnumerable<int> Sequence, IList<string> IList, ICollection<Color> Colors,
    IReadOnlyCollection<byte> Bytes, HashSet<int> Set, Dictionary<int, string> Map,
    IReadOnlyDictionary<string, List<int>> Groups, IDictionary<Guid, Point?> ByGuid, int[][] Jagged,
    (int, string) Pair, (int A, Point B, string? C) Triple, Tuple<int, string>? OldTuple, List<Color> ColorList);

public static class Functions
{
    /// <summary>Prices an option by Monte Carlo.</summary>
    /// <param name="spec">The option.</param>
    /// <param name="seed">The random seed.</param>
    /// <param name="paths">How many paths.</param>
    [Remote]
    public static double Price(OptionSpec spec, int seed, int paths)
    {
        var random = new Random(seed);
        double sum = 0;
        for (int i = 0; i < paths; i++)
        {
            sum += Math.Max(0, spec.Spot * (1 + (random.NextDouble() - 0.5) * spec.Volatility) - spec.Strike);
        }

        return sum / Math.Max(1, paths);
    }

    [Remote] public static Everything EchoEverything(Everything value) => value;

    [Remote] public static Collections EchoCollections(Collections value) => value;

    [Remote] public static Nested EchoNested(Nested value) => value;

    [Remote] public static Settable EchoSettable(Settable value) => value;

    [Remote] public static MutablePoint EchoMutable(MutablePoint value) => value;

    [Remote] public static string? EchoString(string? value) => value;

    [Remote] public static double[] EchoDoubles(double[] value) => value;

    [Remote] public static (int, long, string) Small(int a, long b, string c) => (a, b, c);

    [Remote] public static List<Person> People(List<Person> people) => people;

    [Remote(Retries = 3, TimeoutSeconds = 120, MemoryMb = 1024, RetryOnException = true)]
    public static async Task<long> CountAsync(string text, RemoteContext context, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return text.Length + context.CallIndex;
    }

    public static int VoidCalls;

    [Remote] public static void Touch(int amount) => Interlocked.Add(ref VoidCalls, amount);

    [Remote] public static async Task TouchAsync(int amount)
    {
        await Task.Yield();
        Interlocked.Add(ref VoidCalls, amount);
    }

    [Remote] public static ValueTask<int> Twice(int x) => new(x * 2);

    [Remote] public static double SumShared(Shared<double[]> data, int take)
    {
        double sum = 0;
        for (int i = 0; i < take; i++)
        {
            sum += data.Value[i];
        }

        return sum;
    }

    [Remote] public static int Fail(string message) => throw new InvalidOperationException(message);

    [Remote(Id = "fixtures/renamed")] public static int Renamed(int x) => x + 1;

    [Remote] public static ObjectChunk Chunk(ObjectChunk chunk) => chunk with { Offset = chunk.Offset + 1 };
}

public static class Outer
{
    public static class Inner
    {
        [Remote] public static int Deep(int x) => -x;
    }
}
