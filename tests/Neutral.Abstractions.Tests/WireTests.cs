using System;
using System.Text;
using Neutral.Wire;

namespace Neutral.Tests;

public sealed class WireTests
{
    private static StatusRecord Sample(bool failed) => new()
    {
        JobId = "20261127-000000-abcdef0123",
        CallIndex = 17,
        Attempt = 2,
        Succeeded = !failed,
        InlineResult = failed ? null : [1, 2, 3, 250],
        OutputKey = failed ? null : "jobs/x/calls/000017/output.2",
        Error = failed ? new RemoteError(RemoteError.UserKind, "System.ArgumentException", "bad \"quoted\" ü", "at X.Y()\n at Z") : null,
        WorkerStart = new DateTimeOffset(2026, 11, 27, 6, 0, 0, TimeSpan.Zero).AddTicks(1234567),
        WorkerEnd = new DateTimeOffset(2026, 11, 27, 6, 0, 1, TimeSpan.FromHours(1)),
        ColdStart = true,
        Host = "host/42",
        BytesIn = 100,
        BytesOut = 4,
        Log = failed ? "line 1\nline 2" : null,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_hand_written_status_json_reads_back_through_the_serializer(bool failed)
    {
        StatusRecord status = Sample(failed);
        byte[] json = WireJson.Serialize(status);
        StatusRecord back = WireJson.DeserializeStatus(json);
        Assert.Equal(status with { InlineResult = null }, back with { InlineResult = null });
        Assert.Equal(status.InlineResult, back.InlineResult);
        string text = Encoding.UTF8.GetString(json);
        Assert.DoesNotContain("null", text); // absent members are left out, as the serializer does
        Assert.Contains("\"call\":17", text);
    }

    [Fact]
    public void An_error_without_a_stack_trace_reads_back_in_a_status_and_in_a_kept_call()
    {
        // Errors the platform or the client makes (a timeout, attempts spent) have no stack: the field is left out.
        var error = new RemoteError(RemoteError.PlatformKind, "System.TimeoutException", "no status by the deadline");
        byte[] status = WireJson.Serialize(new StatusRecord { JobId = "20261206-120000-0a1b2c3d4e", CallIndex = 2, Attempt = 1, Succeeded = false, Error = error });
        Assert.DoesNotContain("stack", Encoding.UTF8.GetString(status), StringComparison.Ordinal);
        Assert.Equal(error, WireJson.DeserializeStatus(status).Error);

        var kept = new KeptCall
        {
            Call = new InvocationEnvelope
            {
                JobId = "20261206-120000-0a1b2c3d4e",
                CallIndex = 2,
                FunctionId = "A.B.C(int)",
                SignatureHash = "0123456789abcdef",
                InlineInput = [1, 2, 3],
                Attempt = 1,
                Store = new StoreLocation("local", "/tmp/x", "_neutral/"),
            },
            Error = error,
            Failed = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero),
            Until = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero),
        };
        Assert.Equal(kept.Error, WireJson.DeserializeKept(WireJson.Serialize(kept)).Error);
        Assert.Equal(kept.Until, WireJson.DeserializeKept(WireJson.Serialize(kept)).Until);
        Assert.Equal([1, 2, 3], WireJson.DeserializeKept(WireJson.Serialize(kept)).Call.InlineInput);
    }

    [Fact]
    public void Envelopes_and_manifests_round_trip_and_hashes_are_16_hex_digits()
    {
        var envelope = new InvocationEnvelope
        {
            JobId = "j", CallIndex = 3, FunctionId = "A.B.C(int)", SignatureHash = InvocationEnvelope.FormatHash(0x0123456789ABCDEF),
            InlineInput = [9, 8], Attempt = 1, Deadline = DateTimeOffset.UnixEpoch, Store = new StoreLocation("local", "/data", "_neutral/"),
        };
        InvocationEnvelope back = WireJson.DeserializeEnvelope(WireJson.Serialize(envelope));
        Assert.Equal(0x0123456789ABCDEFUL, back.SignatureHashValue);
        Assert.Equal("0123456789abcdef", back.SignatureHash);
        Assert.Equal(envelope.Store, back.Store);
        Assert.Equal(envelope.InlineInput, back.InlineInput);
        Assert.Throws<FormatException>(() => InvocationEnvelope.ParseHash("xyz"));
        Assert.Throws<FormatException>(() => WireJson.DeserializeEnvelope("{\"v\":1}"u8));
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(WireJson.Serialize(envelope)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_storage_layout_matches_the_protocol()
    {
        Assert.Equal("jobs/j1/job.json", StorageLayout.Manifest("j1"));
        Assert.Equal("jobs/j1/input.bin", StorageLayout.Input("j1"));
        Assert.Equal("jobs/j1/calls/000042/started.3", StorageLayout.Started("j1", 42, 3));
        Assert.Equal("jobs/j1/calls/000042/output.3", StorageLayout.Output("j1", 42, 3));
        Assert.Equal("jobs/j1/calls/000042/status", StorageLayout.Status("j1", 42));
        Assert.True(StorageLayout.TryParseCallKey("j1", "jobs/j1/calls/000042/started.3", out int index, out string name));
        Assert.Equal((42, "started.3"), (index, name));
        Assert.False(StorageLayout.TryParseCallKey("j1", "jobs/j2/calls/000042/status", out _, out _));
        Assert.Throws<ArgumentException>(() => StorageLayout.Manifest("../x"));
    }
}
