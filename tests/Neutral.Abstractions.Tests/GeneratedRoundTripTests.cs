using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Dispatch;
using Neutral.Tests.Fixtures;
using Remote = Neutral.Tests.Fixtures.Remote;

namespace Neutral.Tests;

/// <summary>Generated client encodes, generated dispatch decodes, invokes and encodes, client decodes.</summary>
public sealed class GeneratedRoundTripTests
{
    internal static Everything SampleEverything() => new(
        true, 255, -128, short.MinValue, ushort.MaxValue, '\u20AC', int.MinValue, uint.MaxValue, long.MinValue, ulong.MaxValue,
        float.NaN, double.Epsilon, -79228162514264337593543950335m, "héllo wörld \U0001F600", new DateTime(2024, 2, 29, 13, 14, 15, DateTimeKind.Utc).AddTicks(7),
        new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromHours(-5.5)), TimeSpan.FromTicks(-123456789), Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        new DateOnly(1, 1, 1), new TimeOnly(23, 59, 59, 999), Color.Blue, Big.Min, null, new Point(1.5, -2.5));

    internal static Collections SampleCollections() => new(
        null, [1.5, double.MaxValue, -0.0], ["a", null, ""], [long.MaxValue, 0], ["x", "y"],
        [new Point(1, 2), new Point(3, 4)], Enumerable.Range(1, 5).Where(i => i % 2 == 1), new List<string> { "i" }, new List<Color> { Color.Red, Color.Blue },
        new byte[] { 1, 2, 3 }, [5, 7], new() { [1] = "one", [2] = null! }, new Dictionary<string, List<int>> { ["g"] = [1, 2] },
        new Dictionary<Guid, Point?> { [Guid.Empty] = null, [Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301")] = new Point(0, 1) }, [[1], [], [2, 3]],
        (7, "seven"), (1, new Point(2, 3), null), Tuple.Create(9, "nine"), [Color.Green]);

    [Fact]
    public void A_sync_method_runs_through_the_dispatch_table()
    {
        var spec = new OptionSpec(100, 95, 0.01, 0.2, 1);
        double remote = Dispatcher.Run(Remote.Functions.Price(spec, 42, 1000));
        Assert.Equal(Functions.Price(spec, 42, 1000), remote);
    }

    [Fact]
    public void Every_primitive_and_well_known_type_round_trips()
    {
        Everything value = SampleEverything();
        Everything result = Dispatcher.Run(Remote.Functions.EchoEverything(value));
        Assert.Equal(value, result);
        Assert.Equal(DateTimeKind.Utc, result.Dt.Kind);
        Assert.Equal(value.Dto.Offset, result.Dto.Offset);
    }

    [Fact]
    public void Collections_dictionaries_tuples_and_jagged_arrays_round_trip()
    {
        Collections value = SampleCollections();
        Collections result = Dispatcher.Run(Remote.Functions.EchoCollections(value));
        Assert.Equivalent(value, result, strict: true);
        Assert.Null(result.Ints);
        Assert.Equal([1, 3, 5], result.Sequence);
        Assert.Equal(value.ByGuid.Keys.ToArray(), result.ByGuid.Keys.ToArray());
        Assert.Equal(value.Jagged.Select(a => a.Length), result.Jagged.Select(a => a.Length));
    }

    [Fact]
    public void Nested_user_types_round_trip()
    {
        var owner = new Person("Ada", 36, null, new DateTime(1815, 12, 10), Color.Green, 12.5m);
        var value = new Nested(owner, [new Line(new Point(0, 0), new Point(1, 1), "diag"), new Line(default, default, null)],
            new Dictionary<string, Point> { ["origin"] = default }, [owner, null]);
        Nested result = Dispatcher.Run(Remote.Functions.EchoNested(value));
        Assert.Equivalent(value, result, strict: true);
        Assert.Null(result.Friends[1]);
    }

    [Fact]
    public void Settable_properties_and_fields_round_trip_and_computed_ones_are_not_sent()
    {
        var value = new Settable { Count = 21, Label = "l", Values = [1, 2] };
        Settable result = Dispatcher.Run(Remote.Functions.EchoSettable(value));
        Assert.Equal(21, result.Count);
        Assert.Equal("l", result.Label);
        Assert.Equal([1, 2], result.Values!);
        Assert.Equal(42, result.Derived);

        MutablePoint point = Dispatcher.Run(Remote.Functions.EchoMutable(new MutablePoint { X = 3, Y = -4 }));
        Assert.Equal(3, point.X);
        Assert.Equal(-4, point.Y);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ascii")]
    [InlineData("日本語 \U0001F680 \0 nul")]
    public void Strings_round_trip_including_null_and_empty(string? value) =>
        Assert.Equal(value, Dispatcher.Run(Remote.Functions.EchoString(value)));

    [Fact]
    public void A_large_string_round_trips()
    {
        string value = new('ü', 200_000);
        Assert.Equal(value, Dispatcher.Run(Remote.Functions.EchoString(value)));
    }

    [Fact]
    public void A_million_doubles_travel_as_one_block()
    {
        double[] value = Enumerable.Range(0, 1_000_000).Select(i => i * 0.5).ToArray();
        RemoteCall<double[]> call = Remote.Functions.EchoDoubles(value);
        Assert.Equal(4 + (8 * value.Length), call.Arguments.Length);
        Assert.Equal(value, Dispatcher.Run(call));
    }

    [Fact]
    public void Small_arguments_encode_compactly()
    {
        RemoteCall<(int, long, string)> call = Remote.Functions.Small(1, 2, "abc");
        Assert.Equal(4 + 8 + 4 + 3, call.Arguments.Length);
        Assert.Equal((1, 2L, "abc"), Dispatcher.Run(call));
    }

    [Fact]
    public async Task Async_methods_get_context_and_cancellation_token_and_options_are_carried()
    {
        RemoteCall<long> call = Remote.Functions.CountAsync("hello");
        Assert.Equal(new RemoteFunctionOptions(3, 120, 1024, true), call.Function.Options);
        long result = await Dispatcher.RunAsync(call, Dispatcher.NewContext(callIndex: 10));
        Assert.Equal(15, result);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var context = new RemoteContext(new MemoryStore(), "job", 0, 1, cancellationToken: cancelled.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Dispatcher.RunAsync(call, context));
    }

    [Fact]
    public async Task Void_and_task_methods_return_unit()
    {
        int before = Volatile.Read(ref Functions.VoidCalls);
        Assert.Equal(Unit.Value, await Dispatcher.RunAsync(Remote.Functions.Touch(2)));
        Assert.Equal(Unit.Value, await Dispatcher.RunAsync(Remote.Functions.TouchAsync(3)));
        Assert.Equal(before + 5, Volatile.Read(ref Functions.VoidCalls));
        Assert.Equal(8, await Dispatcher.RunAsync(Remote.Functions.Twice(4)));
    }

    [Fact]
    public async Task Shared_values_are_fetched_once_per_process_and_cached()
    {
        var store = new MemoryStore();
        double[] data = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new CodecWriter(buffer);
        Assert.NotNull(CodecRegistry<double[]>.Write);
        CodecRegistry<double[]>.Write!(ref writer, data);
        writer.Flush();
        string key = "jobs/shared-test-" + Guid.NewGuid().ToString("N") + "/shared/h";
        await store.PutAsync(key, buffer.WrittenMemory);

        var shared = new Shared<double[]>(key, data);
        for (int i = 0; i < 5; i++)
        {
            var context = new RemoteContext(new MemoryStore(), "job", i, 1, internalStorage: store);
            Assert.Equal(55, await Dispatcher.RunAsync(Remote.Functions.SumShared(shared, 10), context));
        }

        Assert.Equal(1, store.Gets);
    }

    [Fact]
    public async Task A_missing_shared_value_fails_with_a_clear_error_and_is_not_cached()
    {
        var shared = new Shared<double[]>("jobs/none/shared/" + Guid.NewGuid().ToString("N"), []);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Dispatcher.RunAsync(Remote.Functions.SumShared(shared, 1)));
        Assert.Contains("is missing from storage", error.Message);
    }

    [Fact]
    public void A_null_shared_argument_is_refused_by_the_stub() =>
        Assert.Throws<ArgumentNullException>(() => Remote.Functions.SumShared(null!, 1));

    [Fact]
    public async Task User_exceptions_propagate_from_dispatch()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Dispatcher.RunAsync(Remote.Functions.Fail("boom")));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public void Explicit_ids_nested_types_and_object_chunks_work()
    {
        Assert.Equal("fixtures/renamed", Remote.Functions.Renamed(1).Function.Id);
        Assert.Equal(2, Dispatcher.Run(Remote.Functions.Renamed(1)));
        Assert.Equal(-5, Dispatcher.Run(Remote.Outer.Inner.Deep(5)));
        Assert.Equal("Neutral.Tests.Fixtures.Outer.Inner.Deep(int)", Remote.Outer.Inner.Deep(5).Function.Id);
        Assert.Equal(new ObjectChunk("data/a.txt", 11, 100), Dispatcher.Run(Remote.Functions.Chunk(new ObjectChunk("data/a.txt", 10, 100))));
    }

    [Fact]
    public void The_function_id_is_the_canonical_signature()
    {
        var call = Remote.Functions.Price(new OptionSpec(1, 1, 1, 1, 1), 1, 1);
        Assert.Equal("Neutral.Tests.Fixtures.Functions.Price(Neutral.Tests.Fixtures.OptionSpec,int,int)", call.Function.Id);
        Assert.Contains(RemoteDispatch.Functions, f => f.Id == call.Function.Id && f.SignatureHash == call.Function.SignatureHash);
    }

    [Fact]
    public async Task An_unknown_function_is_refused_as_a_stale_worker()
    {
        var error = await Assert.ThrowsAsync<StaleWorkerException>(() =>
            RemoteDispatch.InvokeAsync("Other.Type.Gone(int)", 1, ReadOnlyMemory<byte>.Empty, Dispatcher.NewContext(), new System.Buffers.ArrayBufferWriter<byte>()).AsTask());
        Assert.Contains("Other.Type.Gone(int)", error.Message);
        Assert.Contains("stale", error.Message);
        Assert.Null(error.KnownHash);
    }

    [Fact]
    public async Task A_changed_signature_is_refused_as_a_stale_worker()
    {
        var call = Remote.Functions.Twice(1);
        var error = await Assert.ThrowsAsync<StaleWorkerException>(() =>
            RemoteDispatch.InvokeAsync(call.Function.Id, call.Function.SignatureHash ^ 1, call.Arguments, Dispatcher.NewContext(), new System.Buffers.ArrayBufferWriter<byte>()).AsTask());
        Assert.Equal(call.Function.SignatureHash, error.KnownHash);
        Assert.Contains(call.Function.Id, error.Message);
        Assert.Contains("stale", error.Message);
    }

    [Fact]
    public async Task Trailing_bytes_are_refused_with_the_function_and_offset()
    {
        var call = Remote.Functions.Twice(1);
        byte[] longer = [.. call.Arguments.ToArray(), 0];
        var error = await Assert.ThrowsAsync<CodecException>(() =>
            RemoteDispatch.InvokeAsync(call.Function.Id, call.Function.SignatureHash, longer, Dispatcher.NewContext(), new System.Buffers.ArrayBufferWriter<byte>()).AsTask());
        Assert.Equal(call.Function.Id, error.Function);
        Assert.Equal(4, error.Offset);
    }

    [Fact]
    public void Encoding_is_deterministic_and_decoding_then_encoding_gives_the_same_bytes()
    {
        byte[] first = Remote.Functions.EchoCollections(SampleCollections()).Arguments.ToArray();
        byte[] second = Remote.Functions.EchoCollections(SampleCollections()).Arguments.ToArray();
        Assert.Equal(first, second);

        var call = Remote.Functions.EchoCollections(SampleCollections());
        Collections decoded = call.Function.DecodeResult(call.Arguments.Span);
        Assert.Equal(first, Remote.Functions.EchoCollections(decoded).Arguments.ToArray());
    }
}
