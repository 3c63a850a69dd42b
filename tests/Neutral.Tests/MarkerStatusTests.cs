using System;
using System.Linq;
using Neutral.Wire;
using Xunit;

namespace Neutral.Tests;

/// <summary>Protocol version 4: a small success's status in its marker's name (<see cref="MarkerStatus"/>).</summary>
public sealed class MarkerStatusTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 10, 0, 0, 123, TimeSpan.Zero);

    private static StatusRecord Success(byte[] result, string? host = "ip-10-0-0-1", string? log = null) => new()
    {
        JobId = "j",
        CallIndex = 42,
        Attempt = 3,
        Succeeded = true,
        InlineResult = result,
        WorkerStart = Start,
        WorkerEnd = Start.AddTicks(12_345),
        ColdStart = true,
        Host = host,
        BytesIn = 5,
        BytesOut = result.Length,
        Log = log,
    };

    [Theory]
    [InlineData(0, "ip-10-0-0-1")]
    [InlineData(4, null)]
    [InlineData(60, "a-host")]
    public void A_small_success_goes_there_and_back_whole(int resultBytes, string? host)
    {
        StatusRecord status = Success(Enumerable.Range(0, resultBytes).Select(i => (byte)i).ToArray(), host);
        string payload = MarkerStatus.Encode(status)!;
        Assert.NotNull(payload);
        Assert.InRange(payload.Length, 1, MarkerStatus.MaxChars);
        Assert.All(payload, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' in a key"));

        StatusRecord copy = MarkerStatus.Decode(payload, "j", 42, 3)!;
        Assert.Equal(status with { InlineResult = null }, copy with { InlineResult = null });
        Assert.Equal(status.InlineResult, copy.InlineResult);

        // And the marker's name parses back to it.
        string key = StorageLayout.StatusMarkerOf("j", 0, 42, 3, payload);
        Assert.True(StorageLayout.TryParseSlotMarker(key.AsSpan(StorageLayout.Slot("j", 0).Length), out int call, out int attempt, out char kind, out ReadOnlySpan<char> parsed));
        Assert.Equal((42, 3, 't'), (call, attempt, kind));
        Assert.Equal(payload, parsed.ToString());
        Assert.True(key.Length - StorageLayout.Slot("j", 0).Length < 255 - 64, "a marker's name must fit one path segment");
    }

    [Fact]
    public void Only_a_plain_small_success_is_carried()
    {
        Assert.Null(MarkerStatus.Encode(Success(new byte[121])));
        Assert.Null(MarkerStatus.Encode(Success([1], log: "printed something")));
        Assert.Null(MarkerStatus.Encode(Success([1], host: new string('h', 200))));
        Assert.Null(MarkerStatus.Encode(Success([1]) with { Succeeded = false, Error = new RemoteError(RemoteError.UserKind, "T", "m", null) }));
        Assert.Null(MarkerStatus.Encode(Success([1]) with { InlineResult = null, OutputKey = "jobs/j/calls/000042/output.3" }));
        Assert.Null(MarkerStatus.Encode(Success([1]) with { WorkerEnd = Start.AddSeconds(-1) }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!!")]
    [InlineData("AgAAAAAAAAAAAA")] // a format this version does not know
    [InlineData("AQAAAAAAAAAAAA")] // format 1, cut short before its numbers
    public void A_payload_this_version_cannot_read_is_no_status(string payload) =>
        Assert.Null(MarkerStatus.Decode(payload, "j", 1, 1));

    [Fact]
    public void A_payload_whose_lengths_overrun_it_is_no_status()
    {
        // Format 1, a host, start 0, run 0, 0 bytes in and out, then a host of 50 bytes that are not there.
        byte[] bytes = [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 65];
        Assert.Null(MarkerStatus.Decode(System.Buffers.Text.Base64Url.EncodeToString(bytes), "j", 1, 1));

        // A varint that never ends.
        byte[] endless = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, .. Enumerable.Repeat((byte)0xff, 12)];
        Assert.Null(MarkerStatus.Decode(System.Buffers.Text.Base64Url.EncodeToString(endless), "j", 1, 1));
    }

    [Fact]
    public void A_bare_status_marker_parses_without_a_payload()
    {
        Assert.True(StorageLayout.TryParseSlotMarker("0000007.1.status", out int call, out _, out char kind, out ReadOnlySpan<char> payload));
        Assert.Equal((7, 't'), (call, kind));
        Assert.True(payload.IsEmpty);
        Assert.False(StorageLayout.TryParseSlotMarker("0000007.1.started.x", out _, out _, out _, out _));
    }
}
