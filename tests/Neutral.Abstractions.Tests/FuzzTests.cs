using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using Neutral.Codec;
using Neutral.Dispatch;
using Neutral.Tests.Fixtures;
using Remote = Neutral.Tests.Fixtures.Remote;

namespace Neutral.Tests;

/// <summary>
/// Truncated, corrupted and random bytes given to the generated decoders raise <see cref="CodecException"/> (naming the
/// function and the offset) or decode to some value; never an index, cast, memory or argument error, never a hang.
/// </summary>
public sealed class FuzzTests
{
    private static readonly Func<object>[] Calls =
    [
        () => Remote.Functions.EchoCollections(GeneratedRoundTripTests.SampleCollections()),
        () => Remote.Functions.EchoEverything(GeneratedRoundTripTests.SampleEverything()),
        () => Remote.Functions.EchoNested(new Nested(
            new Person("p", 1, "e", DateTime.UnixEpoch, Color.Red, 1m),
            [new Line(new Point(1, 2), new Point(3, 4), "l")],
            new Dictionary<string, Point> { ["k"] = new Point(5, 6) },
            [null, new Person("q", 2, null, DateTime.MinValue, Color.Blue, -1m)])),
        () => Remote.Functions.People([new Person("a", 1, null, DateTime.UnixEpoch, Color.Green, 0m)]),
        () => Remote.Functions.Small(1, 2, "three"),
        () => Remote.Functions.EchoSettable(new Settable { Count = 1, Label = "x", Values = [1, 2, 3] }),
    ];

    private static (string Id, ulong Hash, byte[] Arguments) Describe(object call) => call switch
    {
        RemoteCall<Collections> c => (c.Function.Id, c.Function.SignatureHash, c.Arguments.ToArray()),
        RemoteCall<Everything> c => (c.Function.Id, c.Function.SignatureHash, c.Arguments.ToArray()),
        RemoteCall<Nested> c => (c.Function.Id, c.Function.SignatureHash, c.Arguments.ToArray()),
        RemoteCall<List<Person>> c => (c.Function.Id, c.Function.SignatureHash, c.Arguments.ToArray()),
        RemoteCall<(int, long, string)> c => (c.Function.Id, c.Function.SignatureHash, c.Arguments.ToArray()),
        RemoteCall<Settable> c => (c.Function.Id, c.Function.SignatureHash, c.Arguments.ToArray()),
        _ => throw new InvalidOperationException(),
    };

    private static bool Decode(string id, ulong hash, byte[] input)
    {
        try
        {
            RemoteDispatch.InvokeAsync(id, hash, input, Dispatcher.NewContext(), new ArrayBufferWriter<byte>()).AsTask().GetAwaiter().GetResult();
            return true;
        }
        catch (CodecException e)
        {
            Assert.Equal(id, e.Function);
            Assert.InRange(e.Offset, 0, input.Length);
            Assert.Contains(id, e.Message);
            return false;
        }
    }

    [Fact]
    public void Every_truncation_of_a_valid_payload_is_refused_with_a_codec_exception()
    {
        foreach (Func<object> make in Calls)
        {
            var (id, hash, arguments) = Describe(make());
            Assert.True(Decode(id, hash, arguments));
            for (int length = 0; length < arguments.Length; length++)
            {
                Assert.False(Decode(id, hash, arguments[..length]), $"{id}: a payload truncated to {length} of {arguments.Length} bytes was accepted");
            }
        }
    }

    [Fact]
    public void Ten_thousand_corrupted_and_random_payloads_never_escape_as_another_exception()
    {
        var random = new Random(20261127);
        int runs = 0, refused = 0;
        foreach (Func<object> make in Calls)
        {
            var (id, hash, arguments) = Describe(make());
            for (int i = 0; i < 1000; i++, runs++)
            {
                byte[] corrupted = (byte[])arguments.Clone();
                int flips = 1 + random.Next(4);
                for (int f = 0; f < flips; f++)
                {
                    int at = random.Next(corrupted.Length);
                    corrupted[at] = random.Next(3) switch
                    {
                        0 => (byte)random.Next(256),
                        1 => 0xFF,
                        _ => (byte)(corrupted[at] ^ (1 << random.Next(8))),
                    };
                }

                refused += Decode(id, hash, corrupted) ? 0 : 1;
            }

            for (int i = 0; i < 800; i++, runs++)
            {
                byte[] noise = new byte[random.Next(0, 300)];
                random.NextBytes(noise);
                refused += Decode(id, hash, noise) ? 0 : 1;
            }
        }

        Assert.True(runs >= 10_000, $"only {runs} inputs");
        Assert.True(refused > runs / 2, $"only {refused} of {runs} corrupted inputs were refused");
    }

    [Fact]
    public void Corrupted_results_are_refused_by_the_client_decoder()
    {
        var call = Remote.Functions.People([]);
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            byte[] noise = new byte[random.Next(0, 64)];
            random.NextBytes(noise);
            try
            {
                call.Function.DecodeResult(noise);
            }
            catch (CodecException e)
            {
                Assert.Equal(call.Function.Id, e.Function);
            }
        }
    }

    [Fact]
    public void A_huge_declared_length_is_refused_without_allocating_it()
    {
        var call = Remote.Functions.People([]);
        byte[] payload = [0xFF, 0xFF, 0xFF, 0x7F];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<CodecException>(() => call.Function.DecodeResult(payload));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("exceeds", error.Message);
    }
}
