using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using Neutral.Tests.Fixtures;
using Remote = Neutral.Tests.Fixtures.Remote;

namespace Neutral.Tests;

/// <summary>Random values of every supported shape survive client encode, dispatch decode/encode, client decode.</summary>
public sealed class PropertyTests
{
    // Unpaired surrogates are not valid UTF-16 text and are replaced in UTF-8 (as in System.Text.Json): generate real text.
    private static readonly Gen<char> TextChar = Gen.Char.Where(c => !char.IsSurrogate(c));
    private static readonly Gen<string> Text = TextChar.Array[0, 40].Select(a => new string(a));
    private static readonly Gen<string?> MaybeText = Text.Null();
    private static readonly Gen<DateTime> Dates = Gen.Long[0, DateTime.MaxValue.Ticks].Select(Gen.Int[0, 2], (t, k) => new DateTime(t, (DateTimeKind)k));
    private static readonly Gen<DateTimeOffset> Offsets = Gen.Long[TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay]
        .Select(Gen.Int[-14 * 60, 14 * 60], (t, m) => new DateTimeOffset(t, TimeSpan.FromMinutes(m)));
    private static readonly Gen<Point> Points = Gen.Double.Select(Gen.Double, (x, y) => new Point(x, y));
    private static readonly Gen<Color> Colors = Gen.Enum<Color>();
    private static readonly Gen<Person> People = Gen.Select(Text, Gen.Int, MaybeText, Dates, Colors, Gen.Decimal,
        (n, a, e, b, c, d) => new Person(n, a, e, b, c, d));

    private static readonly Gen<Everything> Everythings = Gen.Select(
        Gen.Select(Gen.Bool, Gen.Byte, Gen.SByte, Gen.Short, Gen.UShort, TextChar, Gen.Int, Gen.UInt),
        Gen.Select(Gen.Long, Gen.ULong, Gen.Float, Gen.Double, Gen.Decimal, MaybeText, Dates, Offsets),
        Gen.Select(Gen.Long, Gen.Guid, Gen.Int[0, DateOnly.MaxValue.DayNumber], Gen.Long[0, TimeOnly.MaxValue.Ticks], Colors, Gen.Enum<Big>(), Gen.Int.Nullable(), Points.Nullable()),
        (a, b, c) => new Everything(a.Item1, a.Item2, a.Item3, a.Item4, a.Item5, a.Item6, a.Item7, a.Item8, b.Item1, b.Item2, b.Item3, b.Item4, b.Item5, b.Item6, b.Item7, b.Item8,
            TimeSpan.FromTicks(c.Item1), c.Item2, DateOnly.FromDayNumber(c.Item3), new TimeOnly(c.Item4), c.Item5, c.Item6, c.Item7, c.Item8));

    private static readonly Gen<Collections> CollectionsGen = Gen.Select(
        Gen.Select(Gen.Int.Array.Null(), Gen.Double.Array, MaybeText.Array, Gen.Long.List, Text.List, Points.Array, Gen.Int.Array, Text.List),
        Gen.Select(Colors.List, Gen.Byte.Array, Gen.Int.HashSet, Gen.Dictionary(Gen.Int, Text), Gen.Dictionary(Text, Gen.Int.List), Gen.Dictionary(Gen.Guid, Points.Nullable()), Gen.Int.Array.Array),
        Gen.Select(Gen.Int, Text, Points, MaybeText, Gen.Int.Select(Text, Tuple.Create).Null(), Colors.List),
        (a, b, c) => new Collections(a.Item1, a.Item2, a.Item3, a.Item4, a.Item5, a.Item6, a.Item7, a.Item8, b.Item1, b.Item2, b.Item3, b.Item4, b.Item5, b.Item6, b.Item7,
            (c.Item1, c.Item2), (c.Item1, c.Item3, c.Item4), c.Item5, c.Item6));

    [Fact]
    public void Random_primitives_round_trip() =>
        Everythings.Sample(value =>
        {
            Everything result = Dispatcher.Run(Remote.Functions.EchoEverything(value));
            // NaN != NaN for records of doubles: compare the encodings, then the fields that equality handles.
            Assert.Equal(Remote.Functions.EchoEverything(value).Arguments.ToArray(), Remote.Functions.EchoEverything(result).Arguments.ToArray());
            Assert.Equal(value with { F32 = 0, F64 = 0, MaybePoint = null }, result with { F32 = 0, F64 = 0, MaybePoint = null });
            Assert.Equal(BitConverter.SingleToInt32Bits(value.F32), BitConverter.SingleToInt32Bits(result.F32));
            Assert.Equal(BitConverter.DoubleToInt64Bits(value.F64), BitConverter.DoubleToInt64Bits(result.F64));
            Assert.Equal(value.Dt.Kind, result.Dt.Kind);
        }, iter: 300);

    [Fact]
    public void Random_collections_round_trip() =>
        CollectionsGen.Sample(value =>
        {
            Collections result = Dispatcher.Run(Remote.Functions.EchoCollections(value));
            Assert.Equivalent(value, result, strict: true);
            Assert.Equal(Remote.Functions.EchoCollections(value).Arguments.ToArray(), Remote.Functions.EchoCollections(result).Arguments.ToArray());
        }, iter: 200);

    [Fact]
    public void Random_lists_of_records_round_trip() =>
        People.List[0, 50].Sample(value =>
        {
            List<Person> result = Dispatcher.Run(Remote.Functions.People(value));
            Assert.Equal(value, result);
        }, iter: 200);

    [Fact]
    public void Random_small_arguments_round_trip() =>
        Gen.Select(Gen.Int, Gen.Long, Text).Sample((a, b, c) =>
            Assert.Equal((a, b, c), Dispatcher.Run(Remote.Functions.Small(a, b, c))), iter: 500);

    [Fact]
    public void Random_nested_types_round_trip()
    {
        Gen<Line> lines = Gen.Select(Points, Points, MaybeText, (a, b, n) => new Line(a, b, n));
        Gen<Nested> nested = Gen.Select(People, lines.Array[0, 5], Gen.Dictionary(Text, Points), People.Null().List[0, 5],
            (o, l, d, f) => new Nested(o, l, d, f));
        nested.Sample(value => Assert.Equivalent(value, Dispatcher.Run(Remote.Functions.EchoNested(value)), strict: true), iter: 200);
    }
}
