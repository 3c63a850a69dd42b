using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Local;
using Neutral.Workers.Storage;

namespace Neutral.Workers.Tests;

/// <summary>A store that throws where <see cref="Fault"/> says, and otherwise passes calls to a real one.</summary>
internal sealed class FaultyStore(IObjectStore inner) : IObjectStore
{
    /// <summary>Given the operation ("put", "create", "get", "range", "list", "delete") and the key, the exception to throw, if any.</summary>
    public Func<string, string, Exception?> Fault { get; set; } = static (_, _) => null;

    private void Check(string operation, string key)
    {
        if (Fault(operation, key) is { } e)
        {
            throw e;
        }
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Check("put", key);
        return inner.PutAsync(key, data, cancellationToken);
    }

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Check("create", key);
        return inner.TryCreateAsync(key, data, cancellationToken);
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Check("get", key);
        return inner.GetAsync(key, cancellationToken);
    }

    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        Check("range", key);
        return inner.GetRangeAsync(key, offset, length, cancellationToken);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Check("list", prefix);
        await foreach (ObjectInfo info in inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Check("delete", key);
        return inner.DeleteAsync(key, cancellationToken);
    }
}

/// <summary>Storage failing inside a worker: a platform-error status where one can be written, a lost attempt otherwise, never a dead worker.</summary>
public sealed class StorageFaultTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-storage-faults");
    private readonly FaultyStore _store;
    private readonly CallRunner _runner;
    private readonly StoreLocation _location;

    public StorageFaultTests()
    {
        _store = new FaultyStore(new FileSystemObjectStore(_folder.Path));
        _runner = new CallRunner(_ => _store, "test-host");
        _location = new StoreLocation("local", _folder.Path, "_neutral/");
    }

    public void Dispose() => _folder.Dispose();

    private InvocationEnvelope Envelope<T>(RemoteCall<T> call, int index = 0) => new()
    {
        JobId = "job-1",
        CallIndex = index,
        FunctionId = call.Function.Id,
        SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
        InlineInput = call.Arguments.ToArray(),
        Attempt = 1,
        Store = _location,
    };

    /// <summary>The record the attempt wrote (the status, or where a retryable failure goes), as the worker reports it.</summary>
    private static StatusRecord Record(CallOutcome outcome) => WireJson.DeserializeStatus(outcome.Status);

    private StatusRecord Status(int index) =>
        WireJson.DeserializeStatus(File.ReadAllBytes(Path.Combine(_folder.Path, "_neutral", "jobs", "job-1", "calls", index.ToString("D6"), "status")));

    [Fact]
    public async Task A_failed_started_write_is_a_platform_error_status_and_the_method_does_not_run()
    {
        _store.Fault = (operation, key) => operation == "put" && key.Contains("/started.", StringComparison.Ordinal) ? new IOException("disk full") : null;
        CallOutcome outcome = await _runner.RunAsync(Envelope(Remote.WorkerFunctions.Twice(21)));
        Assert.False(outcome.Succeeded);
        Assert.Equal(RemoteError.PlatformKind, outcome.ErrorKind);
        StatusRecord status = Record(outcome);
        Assert.Equal("System.IO.IOException", status.Error!.Type);
        Assert.Contains("started.1", status.Error.Message, StringComparison.Ordinal);
        Assert.Contains("disk full", status.Error.Message, StringComparison.Ordinal);
        Assert.Equal(0, status.BytesIn);
    }

    [Fact]
    public async Task A_failed_input_read_is_a_platform_error_not_the_users()
    {
        _store.Fault = (operation, _) => operation == "range" ? new IOException("input/output error") : null;
        var envelope = Envelope(Remote.WorkerFunctions.Twice(1)) with { InlineInput = null, InputRange = new InputRange("jobs/job-1/input.bin", 0, 4) };
        CallOutcome outcome = await _runner.RunAsync(envelope);
        Assert.Equal(RemoteError.PlatformKind, outcome.ErrorKind);
        Assert.Equal("System.IO.IOException", Record(outcome).Error!.Type);
        Assert.Contains("reading the input 'jobs/job-1/input.bin'", Record(outcome).Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_timing_out_on_its_own_is_a_platform_error_not_a_cancelled_call()
    {
        // An HTTP client's timeout is a TaskCanceledException though nobody cancelled the call.
        _store.Fault = (operation, _) => operation == "range" ? new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.") : null;
        var envelope = Envelope(Remote.WorkerFunctions.Twice(1)) with { InlineInput = null, InputRange = new InputRange("jobs/job-1/input.bin", 0, 4) };
        CallOutcome outcome = await _runner.RunAsync(envelope);
        Assert.Equal(RemoteError.PlatformKind, outcome.ErrorKind);
        Assert.Equal(typeof(TaskCanceledException).FullName, Record(outcome).Error!.Type);
    }

    [Fact]
    public async Task A_missing_input_object_is_a_platform_error_and_a_short_one_a_protocol_error()
    {
        var missing = Envelope(Remote.WorkerFunctions.Twice(1)) with { InlineInput = null, InputRange = new InputRange("jobs/job-1/input.bin", 0, 4) };
        CallOutcome outcome = await _runner.RunAsync(missing);
        Assert.Equal(RemoteError.PlatformKind, outcome.ErrorKind);
        Assert.Equal(typeof(MissingInputException).FullName, Record(outcome).Error!.Type);
        Assert.Contains("missing", Record(outcome).Error!.Message, StringComparison.Ordinal);

        await _store.PutAsync("_neutral/jobs/job-1/input.bin", new byte[] { 1, 2 });
        CallOutcome shortInput = await _runner.RunAsync(missing with { CallIndex = 1 });
        Assert.Equal(RemoteError.ProtocolKind, shortInput.ErrorKind);
    }

    [Fact]
    public async Task When_not_even_the_status_can_be_written_the_runner_throws_for_the_transport_to_report()
    {
        _store.Fault = (operation, _) => operation is "put" or "create" ? new UnauthorizedAccessException("read-only file system") : null;
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => _runner.RunAsync(Envelope(Remote.WorkerFunctions.Twice(1))));
    }

    [Fact]
    public async Task A_local_worker_reports_a_lost_attempt_when_storage_fails_and_serves_the_next_call()
    {
        var toWorker = new AnonymousPipeServerStream(PipeDirection.Out);
        var workerInput = new AnonymousPipeClientStream(PipeDirection.In, toWorker.ClientSafePipeHandle);
        var fromWorker = new AnonymousPipeServerStream(PipeDirection.In);
        var workerOutput = new AnonymousPipeClientStream(PipeDirection.Out, fromWorker.ClientSafePipeHandle);
        try
        {
            Task serving = Task.Run(() => LocalWorker.RunAsync(workerInput, workerOutput, _runner, onClientGone: null, CancellationToken.None));

            // The next frame, or the worker's failure if it stops serving instead of answering.
            async Task<(LocalFrameType Type, byte[] Payload)> NextFrameAsync()
            {
                var reading = LocalFrames.ReadAsync(fromWorker).AsTask();
                if (await Task.WhenAny(reading, serving) == serving)
                {
                    await serving;
                    Assert.Fail("The worker stopped serving.");
                }

                return (await reading)!.Value;
            }

            Assert.Equal(LocalFrameType.Ready, (await NextFrameAsync()).Type);

            // A read-only root: neither started nor the status can be written.
            _store.Fault = (operation, _) => operation is "put" or "create" ? new IOException("Read-only file system") : null;
            LocalFrames.Write(toWorker, LocalFrameType.Invoke, LocalEnvelope.Encode(Envelope(Remote.WorkerFunctions.Twice(1), index: 0)));
            var frame = await NextFrameAsync();
            Assert.Equal(LocalFrameType.Lost, frame.Type);
            var lost = LocalLost.Decode(frame.Payload);
            Assert.Equal(("job-1", 0, 1), (lost.JobId, lost.CallIndex, lost.Attempt));
            Assert.Contains("System.IO.IOException: Read-only file system", lost.Reason, StringComparison.Ordinal);

            // The store recovers; the same worker runs the next call.
            _store.Fault = static (_, _) => null;
            LocalFrames.Write(toWorker, LocalFrameType.Invoke, LocalEnvelope.Encode(Envelope(Remote.WorkerFunctions.Twice(21), index: 1)));
            frame = await NextFrameAsync();
            Assert.Equal(LocalFrameType.Done, frame.Type);
            CallOutcome done = LocalDone.Decode(frame.Payload);
            Assert.True(done.Succeeded);
            Assert.Equal(42, Remote.WorkerFunctions.Twice(0).Function.DecodeResult(Status(1).InlineResult));

            LocalFrames.Write(toWorker, LocalFrameType.Shutdown, ReadOnlySpan<byte>.Empty);
            await serving;
        }
        finally
        {
            // Writing ends first: a pipe closed under a blocked read would wait for it, so the reads end first.
            toWorker.Dispose();
            workerOutput.Dispose();
            workerInput.Dispose();
            fromWorker.Dispose();
        }
    }

    [Fact]
    public void Lost_frames_round_trip_with_a_bounded_reason()
    {
        var lost = LocalLost.Decode(LocalLost.Encode("j", 3, 2, new string('r', 100_000)));
        Assert.Equal(("j", 3, 2), (lost.JobId, lost.CallIndex, lost.Attempt));
        Assert.InRange(lost.Reason.Length, LocalLost.ReasonLimit, LocalLost.ReasonLimit + 100);
    }
}
