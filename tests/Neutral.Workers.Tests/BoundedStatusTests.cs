using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Workers.Tests;

public static class HugeFailures
{
    /// <summary>Throws from <paramref name="depth"/> frames down with a message of <paramref name="length"/> characters.</summary>
    [Remote]
    public static int Throw(int length, int depth) => Recurse(length, depth);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Recurse(int length, int depth) =>
        depth == 0 ? throw new InvalidOperationException(new string('m', length)) : Recurse(length, depth - 1) + 1;
}

/// <summary>Whatever a call throws, its status and its Done frame stay within bounds.</summary>
public sealed class BoundedStatusTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-bounded");
    private readonly CallRunner _runner = new(LocalWorker.OpenStore, "test-host");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_two_million_character_message_and_a_deep_stack_are_truncated_with_a_note()
    {
        var call = Remote.HugeFailures.Throw(2_000_000, 3000);
        var envelope = new InvocationEnvelope
        {
            JobId = "job-1",
            CallIndex = 0,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            InlineInput = call.Arguments.ToArray(),
            Attempt = 1,
            Store = new StoreLocation("local", _folder.Path, "_neutral/"),
        };

        CallOutcome outcome = await _runner.RunAsync(envelope);
        Assert.Equal(RemoteError.UserKind, outcome.ErrorKind);
        RemoteError error = WireJson.DeserializeStatus(outcome.Status).Error!;
        Assert.Equal("System.InvalidOperationException", error.Type);
        Assert.Equal(new string('m', RemoteErrors.MessageLimit) + "... [truncated: 1,983,616 more characters]", error.Message);
        Assert.InRange(error.StackTrace!.Length, 1000, RemoteErrors.StackTraceLimit + 100);
        Assert.Contains("[truncated: 1,983,616 more characters]", error.StackTrace, StringComparison.Ordinal);
        Assert.Contains("Recurse", error.StackTrace, StringComparison.Ordinal);
        Assert.EndsWith("more characters]", error.StackTrace, StringComparison.Ordinal);

        // The whole status fits in a Done frame.
        Assert.InRange(LocalDone.Encode(outcome).Length, 1, LocalFrames.MaxPayload);
        Assert.Equal(outcome.Status, LocalDone.Decode(LocalDone.Encode(outcome)).Status);
    }

    [Fact]
    public void Truncation_never_splits_a_surrogate_pair()
    {
        string text = new string('a', 9) + "\uD83D\uDE00" + "tail";
        Assert.Equal(new string('a', 9) + "... [truncated: 6 more characters]", RemoteErrors.Truncate(text, 10));
        Assert.Equal(text, RemoteErrors.Truncate(text, text.Length));
    }

    [Fact]
    public void A_frame_over_the_limit_is_refused_on_write_and_nothing_is_sent()
    {
        var stream = new MemoryStream();
        var error = Assert.Throws<ArgumentException>(() => LocalFrames.Write(stream, LocalFrameType.Done, new byte[LocalFrames.MaxPayload + 1]));
        Assert.Contains("Done frame of 1,048,577 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("limit of 1,048,576 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stream.Length);

        LocalFrames.Write(stream, LocalFrameType.Done, new byte[LocalFrames.MaxPayload]);
        stream.Position = 0;
        Assert.Equal(LocalFrames.MaxPayload, LocalFrames.Read(stream)!.Value.Payload.Length);
    }

    [Fact]
    public void A_done_hint_leaves_out_a_status_too_large_for_a_frame()
    {
        var outcome = new CallOutcome("job-1", 3, 1, false, true, RemoteError.UserKind, new byte[LocalFrames.MaxPayload + 10]);
        byte[] payload = LocalDone.Encode(outcome);
        Assert.InRange(payload.Length, 1, LocalFrames.MaxPayload);
        CallOutcome decoded = LocalDone.Decode(payload);
        Assert.Null(decoded.Status);
        Assert.Equal(outcome with { Status = null }, decoded);
    }
}
