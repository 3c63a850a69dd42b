using System.Collections.Generic;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MessagePack;

namespace Neutral.Benchmarks;

/// <summary>
/// Encode + decode of three payloads: Neutral's generated codec (through the real stub and result decoder) against
/// System.Text.Json (reflection and source-generated) and MessagePack-CSharp. Each benchmark produces the encoded
/// byte[] and decodes it back.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CodecBenchmarks
{
    private static readonly JsonSerializerOptions s_reflection = new() { IncludeFields = true };
    private (int, long, string) _small;
    private double[] _doubles = [];
    private List<Row> _rows = [];

    [GlobalSetup]
    public void Setup()
    {
        _small = Payloads.SmallValue;
        _doubles = Payloads.DoublesValue(1_000_000);
        _rows = Payloads.RowsValue(1_000);
    }

    // (a) small arguments

    [Benchmark, BenchmarkCategory("a: (int, long, string)")]
    public (int, long, string) Small_Neutral()
    {
        var call = Remote.Payloads.Small(_small);
        return call.Function.DecodeResult(call.Arguments.Span);
    }

    [Benchmark, BenchmarkCategory("a: (int, long, string)")]
    public (int, long, string) Small_StjReflection() =>
        JsonSerializer.Deserialize<(int, long, string)>(JsonSerializer.SerializeToUtf8Bytes(_small, s_reflection), s_reflection);

    [Benchmark(Baseline = true), BenchmarkCategory("a: (int, long, string)")]
    public (int, long, string) Small_StjSourceGen() =>
        JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(_small, BenchJsonContext.Default.ValueTupleInt32Int64String), BenchJsonContext.Default.ValueTupleInt32Int64String);

    [Benchmark, BenchmarkCategory("a: (int, long, string)")]
    public (int, long, string) Small_MessagePack() =>
        MessagePackSerializer.Deserialize<(int, long, string)>(MessagePackSerializer.Serialize(_small));

    // (b) double[1_000_000]

    [Benchmark, BenchmarkCategory("b: double[1_000_000]")]
    public double[] Doubles_Neutral()
    {
        var call = Remote.Payloads.Doubles(_doubles);
        return call.Function.DecodeResult(call.Arguments.Span);
    }

    [Benchmark, BenchmarkCategory("b: double[1_000_000]")]
    public double[] Doubles_StjReflection() =>
        JsonSerializer.Deserialize<double[]>(JsonSerializer.SerializeToUtf8Bytes(_doubles, s_reflection), s_reflection)!;

    [Benchmark(Baseline = true), BenchmarkCategory("b: double[1_000_000]")]
    public double[] Doubles_StjSourceGen() =>
        JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(_doubles, BenchJsonContext.Default.DoubleArray), BenchJsonContext.Default.DoubleArray)!;

    [Benchmark, BenchmarkCategory("b: double[1_000_000]")]
    public double[] Doubles_MessagePack() =>
        MessagePackSerializer.Deserialize<double[]>(MessagePackSerializer.Serialize(_doubles));

    // (c) 1,000 records of 6 fields

    [Benchmark, BenchmarkCategory("c: List<Row>[1_000]")]
    public List<Row> Rows_Neutral()
    {
        var call = Remote.Payloads.Rows(_rows);
        return call.Function.DecodeResult(call.Arguments.Span);
    }

    [Benchmark, BenchmarkCategory("c: List<Row>[1_000]")]
    public List<Row> Rows_StjReflection() =>
        JsonSerializer.Deserialize<List<Row>>(JsonSerializer.SerializeToUtf8Bytes(_rows, s_reflection), s_reflection)!;

    [Benchmark(Baseline = true), BenchmarkCategory("c: List<Row>[1_000]")]
    public List<Row> Rows_StjSourceGen() =>
        JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(_rows, BenchJsonContext.Default.ListRow), BenchJsonContext.Default.ListRow)!;

    [Benchmark, BenchmarkCategory("c: List<Row>[1_000]")]
    public List<Row> Rows_MessagePack() =>
        MessagePackSerializer.Deserialize<List<Row>>(MessagePackSerializer.Serialize(_rows));
}
