using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Serialization;
using MessagePack;
using Neutral;

namespace Neutral.Benchmarks;

/// <summary>Payload (c): a record of six fields, strings among them.</summary>
[MessagePackObject]
public sealed record Row(
    [property: Key(0)] int Id,
    [property: Key(1)] string Name,
    [property: Key(2)] string Email,
    [property: Key(3)] double Score,
    [property: Key(4)] long Timestamp,
    [property: Key(5)] bool Active);

/// <summary>The [Remote] methods whose generated codecs are measured: each echoes its payload.</summary>
public static class Payloads
{
    [Remote] public static (int, long, string) Small((int, long, string) value) => value;

    [Remote] public static double[] Doubles(double[] value) => value;

    [Remote] public static List<Row> Rows(List<Row> value) => value;

    public static (int, long, string) SmallValue => (42, 1_234_567_890_123L, "pricing/option-17");

    public static double[] DoublesValue(int count) => Enumerable.Range(0, count).Select(i => i * 0.25).ToArray();

    public static List<Row> RowsValue(int count) => Enumerable.Range(0, count)
        .Select(i => new Row(i, "name-" + i, $"user{i}@example.org", i * 1.5, 1_700_000_000_000L + i, i % 3 == 0))
        .ToList();
}

[JsonSourceGenerationOptions(IncludeFields = true)]
[JsonSerializable(typeof((int, long, string)))]
[JsonSerializable(typeof(double[]))]
[JsonSerializable(typeof(List<Row>))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
