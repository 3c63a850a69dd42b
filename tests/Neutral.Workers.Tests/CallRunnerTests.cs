using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers;
using Neutral.Workers.Local;

namespace Neutral.Workers.Tests;

public static class WorkerFunctions
{
    [Remote] public static int Twice(int x) => x * 2;

    [Remote] public static byte[] Big(int size) => new byte[size];

    [Remote] public static int Throw(string message) => throw new InvalidOperationException(message);

    [Remote] public static int Combine(byte[] data, int n, int m) => data.Length * 1000 + n * 10 + m;

    /// <summary>The clock of the runner in <c>A_long_call_whose_job_was_deleted_writes_nothing</c>.</summary>
    public static Microsoft.Extensions.Time.Testing.FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>A call that "runs" for <paramref name="seconds"/> on <see cref="Clock"/>.</summary>
    [Remote]
    public static int RunFor(int seconds)
    {
        Clock.Advance(TimeSpan.FromSeconds(seconds));
        return seconds;
    }

    [Remote]
    public static int Chatter(int lines, RemoteContext context)
    {
        for (int i = 0; i < lines; i++)
        {
            context.Log.WriteLine("line " + i + new string('x', 100));
        }

        return lines;
    }
}

/// <summary>The shared call loop against the real file-system store, without a client.</summary>
public sealed class CallRunnerTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-runner");
    private readonly StoreLocation _store;
    private readonly CallRunner _runner = new(LocalWorker.OpenStore, "test-host");

    public CallRunnerTests() => _store = new StoreLocation("local", _folder.Path, "_neutral/");

    public void Dispose() => _folder.Dispose();

    private InvocationEnvelope Envelope<T>(RemoteCall<T> call, int index = 0, int attempt = 1) => new()
    {
        JobId = "job-1",
        CallIndex = index,
        FunctionId = call.Function.Id,
        SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
        InlineInput = call.Arguments.ToArray(),
        Attempt = attempt,
        Store = _store,
    };

    private StatusRecord Status(int index) =>
        WireJson.DeserializeStatus(File.ReadAllBytes(Path.Combine(_folder.Path, "_neutral", "jobs", "job-1", "calls", index.ToString("D6"), "status")));

    [Fact]
    public async Task A_long_call_whose_job_was_deleted_writes_nothing_and_one_whose_job_exists_writes_its_status()
    {
        var runner = new CallRunner(LocalWorker.OpenStore, "test-host", WorkerFunctions.Clock);
        string calls = Path.Combine(_folder.Path, "_neutral", "jobs", "job-1", "calls");

        // No manifest: the job was cleaned while the call ran.
        CallOutcome gone = await runner.RunAsync(Envelope(Remote.WorkerFunctions.RunFor(5), index: 0));
        Assert.Equal(CallRunner.JobGoneKind, gone.ErrorKind);
        Assert.False(File.Exists(Path.Combine(calls, "000000", "status")));

        // A short call writes whatever the manifest says (the check costs a read only after a second).
        CallOutcome quick = await runner.RunAsync(Envelope(Remote.WorkerFunctions.RunFor(0), index: 1));
        Assert.True(quick.StatusCreated);

        Directory.CreateDirectory(Path.Combine(_folder.Path, "_neutral", "jobs", "job-1"));
        File.WriteAllText(Path.Combine(_folder.Path, "_neutral", "jobs", "job-1", "job.json"), "{}");
        CallOutcome kept = await runner.RunAsync(Envelope(Remote.WorkerFunctions.RunFor(5), index: 2));
        Assert.True(kept.StatusCreated);
        Assert.True(File.Exists(Path.Combine(calls, "000002", "status")));
    }

    [Fact]
    public async Task A_call_writes_started_then_a_status_with_the_inline_result()
    {
        var call = Remote.WorkerFunctions.Twice(21);
        CallOutcome outcome = await _runner.RunAsync(Envelope(call));
        Assert.True(outcome.Succeeded);
        Assert.True(outcome.StatusCreated);
        Assert.True(File.Exists(Path.Combine(_folder.Path, "_neutral", "jobs", "job-1", "calls", "000000", "started.1")));
        StatusRecord status = Status(0);
        Assert.Equal(42, call.Function.DecodeResult(status.InlineResult));
        Assert.Equal("test-host", status.Host);
        Assert.True(status.ColdStart);
        Assert.Equal(outcome.Status, File.ReadAllBytes(Path.Combine(_folder.Path, "_neutral", "jobs", "job-1", "calls", "000000", "status")));
    }

    [Fact]
    public async Task A_result_over_8_KiB_goes_to_output_before_the_status()
    {
        var call = Remote.WorkerFunctions.Big(20_000);
        await _runner.RunAsync(Envelope(call));
        StatusRecord status = Status(0);
        Assert.Null(status.InlineResult);
        Assert.Equal("jobs/job-1/calls/000000/output.1", status.OutputKey);
        byte[] output = File.ReadAllBytes(Path.Combine(_folder.Path, "_neutral", status.OutputKey!));
        Assert.Equal(20_000, call.Function.DecodeResult(output).Length);
    }

    [Fact]
    public async Task The_first_status_wins_and_a_later_attempt_does_not_overwrite_it()
    {
        var call = Remote.WorkerFunctions.Twice(1);
        Assert.True((await _runner.RunAsync(Envelope(call, attempt: 1))).StatusCreated);
        CallOutcome second = await _runner.RunAsync(Envelope(call, attempt: 2));
        Assert.False(second.StatusCreated);
        Assert.Null(second.Status);
        Assert.Equal(1, Status(0).Attempt);
    }

    [Fact]
    public async Task User_exceptions_and_stale_calls_are_recorded_with_their_kind()
    {
        await _runner.RunAsync(Envelope(Remote.WorkerFunctions.Throw("boom"), index: 0));
        Assert.Equal(RemoteError.UserKind, Status(0).Error!.Kind);
        Assert.Equal("boom", Status(0).Error!.Message);

        var stale = Envelope(Remote.WorkerFunctions.Twice(1), index: 1) with { SignatureHash = InvocationEnvelope.FormatHash(1) };
        CallOutcome outcome = await _runner.RunAsync(stale);
        Assert.Equal(RemoteError.ProtocolKind, outcome.ErrorKind);
        Assert.Contains("stale", Status(1).Error!.Message);
    }

    [Fact]
    public async Task A_function_of_an_assembly_whose_table_was_never_registered_names_the_assembly_and_the_fix_not_a_stale_worker()
    {
        var unknown = Envelope(Remote.WorkerFunctions.Twice(1), index: 0) with { FunctionId = "Lib.Prices.Quote(int)", Assembly = "Acme.Pricing" };
        CallOutcome outcome = await _runner.RunAsync(unknown);
        Assert.Equal(RemoteError.ProtocolKind, outcome.ErrorKind);
        RemoteError error = Status(0).Error!;
        Assert.Equal(typeof(Neutral.Dispatch.MissingDispatchTableException).FullName, error.Type);
        Assert.Contains("'Acme.Pricing'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Lib.Prices.Quote(int)'", error.Message, StringComparison.Ordinal);
        Assert.Contains("without the Neutral source generator", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("stale", error.Message, StringComparison.Ordinal);

        // The assembly's table is here but lacks the id: the worker is stale.
        string self = typeof(WorkerFunctions).Assembly.GetName().Name!;
        Assert.Equal(self, Neutral.Dispatch.RemoteDispatch.AssemblyOf(Remote.WorkerFunctions.Twice(1).Function.Id));
        var removed = Envelope(Remote.WorkerFunctions.Twice(1), index: 1) with { FunctionId = "Neutral.Workers.Tests.WorkerFunctions.Gone(int)", Assembly = self };
        await _runner.RunAsync(removed);
        Assert.Equal(typeof(Neutral.Dispatch.StaleWorkerException).FullName, Status(1).Error!.Type);
        Assert.Contains("stale", Status(1).Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_log_is_captured_and_bounded()
    {
        await _runner.RunAsync(Envelope(Remote.WorkerFunctions.Chatter(2000)));
        string log = Status(0).Log!;
        Assert.StartsWith("line 0", log);
        Assert.True(log.Length < CallLog.DefaultLimit + 100);
        Assert.Contains("more characters not kept", log);
    }

    [Fact]
    public async Task Local_frames_and_envelopes_round_trip()
    {
        var envelope = Envelope(Remote.WorkerFunctions.Twice(5)) with { Deadline = DateTimeOffset.UtcNow, InputRange = new InputRange("k", 1, 2) };
        InvocationEnvelope back = LocalEnvelope.Decode(LocalEnvelope.Encode(envelope));
        Assert.Equal(envelope with { InlineInput = null }, back with { InlineInput = null });
        Assert.Equal(envelope.InlineInput, back.InlineInput);

        // The trace context rides last, and only when set: an untraced envelope is what earlier workers read, and a
        // traced one round-trips.
        const string Trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        byte[] untraced = LocalEnvelope.Encode(envelope);
        byte[] traced = LocalEnvelope.Encode(envelope with { TraceParent = Trace });
        Assert.Equal(untraced, traced.AsSpan(0, untraced.Length).ToArray());
        Assert.Equal(Trace, LocalEnvelope.Decode(traced).TraceParent);
        Assert.Null(LocalEnvelope.Decode(untraced).TraceParent);

        var stream = new MemoryStream();
        LocalFrames.Write(stream, LocalFrameType.Cancel, Encoding.UTF8.GetBytes("job-1"));
        stream.Position = 0;
        var frame = (await LocalFrames.ReadAsync(stream))!.Value;
        Assert.Equal(LocalFrameType.Cancel, frame.Type);
        Assert.Equal("job-1", Encoding.UTF8.GetString(frame.Payload));
        Assert.Null(await LocalFrames.ReadAsync(stream));

        var outcome = new CallOutcome("j", 1, 2, true, true, null, [1, 2]);
        CallOutcome decoded = LocalDone.Decode(LocalDone.Encode(outcome));
        Assert.Equal(outcome with { Status = null }, decoded with { Status = null });
        Assert.Equal(outcome.Status, decoded.Status);
    }

    /// <summary>An envelope of <c>Combine(data, n, m)</c> with <c>m</c> by value and the other two from job-p's calls.</summary>
    private InvocationEnvelope Consumer(params InputSource[] from)
    {
        var call = Remote.WorkerFunctions.Combine([], 0, 7);
        // The arguments without the inputs' bytes: only m's 4 bytes, after where data and n go.
        byte[] m = call.Arguments.ToArray()[^4..];
        return Envelope(call) with { JobId = "job-c", InlineInput = m, From = from, Version = InvocationEnvelope.InputsVersion };
    }

    [Fact]
    public async Task Inputs_from_other_calls_are_read_from_their_statuses_and_outputs_and_inserted_in_order()
    {
        // The producing calls: a result over 8 KiB (an output object) and a small one (inline in its status).
        await _runner.RunAsync(Envelope(Remote.WorkerFunctions.Big(20_000)) with { JobId = "job-p", CallIndex = 0 });
        await _runner.RunAsync(Envelope(Remote.WorkerFunctions.Twice(2)) with { JobId = "job-p", CallIndex = 1 });

        CallOutcome outcome = await _runner.RunAsync(Consumer(new InputSource(0, "job-p", 0, "data"), new InputSource(0, "job-p", 1, "n")));

        Assert.True(outcome.Succeeded, System.Text.Encoding.UTF8.GetString(outcome.Status ?? []));
        StatusRecord status = WireJson.DeserializeStatus(outcome.Status);
        Assert.Equal(20_000 * 1000 + 4 * 10 + 7, Remote.WorkerFunctions.Combine([], 0, 0).Function.DecodeResult(status.InlineResult));
        // The bytes the call ran on: the array (length and bytes), the int read from the status, and m.
        Assert.Equal(4 + 20_000 + 4 + 4, status.BytesIn);
    }

    [Fact]
    public async Task A_missing_input_is_a_platform_fault_naming_it_and_a_failed_one_a_protocol_error()
    {
        await _runner.RunAsync(Envelope(Remote.WorkerFunctions.Throw("no value")) with { JobId = "job-p", CallIndex = 1 });

        CallOutcome missing = await _runner.RunAsync(Consumer(new InputSource(0, "job-p", 0, "data"), new InputSource(0, "job-p", 1, "n")));
        Assert.Equal(RemoteError.PlatformKind, missing.ErrorKind);
        StatusRecord recorded = WireJson.DeserializeStatus(File.ReadAllBytes(Path.Combine(_folder.Path, "_neutral", "jobs", "job-c", "calls", "000000", "failed.1")));
        Assert.Contains("input 'data' (call 0 of job job-p)", recorded.Error!.Message, StringComparison.Ordinal);

        CallOutcome failed = await _runner.RunAsync(Consumer(new InputSource(0, "job-p", 1, "n")) with { Attempt = 2 });
        Assert.Equal(RemoteError.ProtocolKind, failed.ErrorKind);
        StatusRecord status = WireJson.DeserializeStatus(failed.Status);
        Assert.Contains("input 'n' (call 1 of job job-p) did not succeed", status.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("no value", status.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inputs_round_trip_in_local_and_json_envelopes()
    {
        InvocationEnvelope envelope = Consumer(new InputSource(0, "job-p", 0, "data"), new InputSource(4, "job-q", 12, "n"));
        foreach (InvocationEnvelope back in new[] { LocalEnvelope.Decode(LocalEnvelope.Encode(envelope)), WireJson.DeserializeEnvelope(WireJson.Serialize(envelope)) })
        {
            Assert.Equal(InvocationEnvelope.InputsVersion, back.Version);
            Assert.Equal(envelope.From, back.From!);
        }

        // A batched call carries its own inputs.
        var batched = Envelope(Remote.WorkerFunctions.Twice(1)) with { Batch = [new BatchedCall(1, 1, From: envelope.From)] };
        Assert.Equal(envelope.From, WireJson.DeserializeEnvelope(WireJson.Serialize(batched)).Calls().Last().From!);
        Assert.Null(batched.Calls().First().From);
    }

    [Fact]
    public async Task A_frame_declaring_too_many_bytes_is_refused()
    {
        var stream = new MemoryStream([1, 0xFF, 0xFF, 0xFF, 0x7F]);
        await Assert.ThrowsAsync<InvalidDataException>(async () => await LocalFrames.ReadAsync(stream));
    }

    [Fact]
    public void The_local_worker_opens_only_local_stores()
    {
        var error = Assert.Throws<NotSupportedException>(() => LocalWorker.OpenStore(new StoreLocation("s3", "bucket", "_neutral/")));
        Assert.Contains("'s3'", error.Message);
    }
}
