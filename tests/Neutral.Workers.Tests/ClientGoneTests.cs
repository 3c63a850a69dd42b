using System;
using System.IO.Pipes;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Workers.Tests;

public static class BlockingFunctions
{
    public static readonly SemaphoreSlim Release = new(0);

    public static TaskCompletionSource Started { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Blocks, ignoring its token, until the test releases it.</summary>
    [Remote]
    public static int Block()
    {
        Started.TrySetResult();
        Release.Wait();
        return 1;
    }
}

/// <summary>How the local worker loop notices that its client is gone.</summary>
public sealed class ClientGoneTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-client-gone");

    public void Dispose() => _folder.Dispose();

    private InvocationEnvelope Envelope(RemoteCall<int> call) => new()
    {
        JobId = "job-1",
        CallIndex = 0,
        FunctionId = call.Function.Id,
        SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
        InlineInput = call.Arguments.ToArray(),
        Attempt = 1,
        Store = new StoreLocation("local", _folder.Path, "_neutral/"),
    };

    [Fact]
    public async Task The_input_ending_mid_call_calls_back_at_once_and_a_shutdown_does_not()
    {
        var toWorker = new AnonymousPipeServerStream(PipeDirection.Out);
        var workerInput = new AnonymousPipeClientStream(PipeDirection.In, toWorker.ClientSafePipeHandle);
        var fromWorker = new AnonymousPipeServerStream(PipeDirection.In);
        var workerOutput = new AnonymousPipeClientStream(PipeDirection.Out, fromWorker.ClientSafePipeHandle);
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        BlockingFunctions.Started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new CallRunner(LocalWorker.OpenStore, "test-host");
        Task serving = Task.Run(() => LocalWorker.RunAsync(workerInput, workerOutput, runner, () => gone.TrySetResult(), CancellationToken.None));
        try
        {
            Assert.Equal(LocalFrameType.Ready, (await LocalFrames.ReadAsync(fromWorker))!.Value.Type);
            LocalFrames.Write(toWorker, LocalFrameType.Invoke, LocalEnvelope.Encode(Envelope(Remote.BlockingFunctions.Block())));
            await BlockingFunctions.Started.Task;

            // The client dies: its end of the pipe closes while the call still runs.
            toWorker.Dispose();
            await gone.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(serving.IsCompleted);
        }
        finally
        {
            BlockingFunctions.Release.Release();
            await serving;
            toWorker.Dispose();
            workerOutput.Dispose();
            workerInput.Dispose();
            fromWorker.Dispose();
        }

        // A shutdown frame is the client leaving in order: no callback.
        var toSecond = new AnonymousPipeServerStream(PipeDirection.Out);
        var secondInput = new AnonymousPipeClientStream(PipeDirection.In, toSecond.ClientSafePipeHandle);
        var fromSecond = new AnonymousPipeServerStream(PipeDirection.In);
        var secondOutput = new AnonymousPipeClientStream(PipeDirection.Out, fromSecond.ClientSafePipeHandle);
        bool called = false;
        Task second = Task.Run(() => LocalWorker.RunAsync(secondInput, secondOutput, runner, () => called = true, CancellationToken.None));
        Assert.Equal(LocalFrameType.Ready, (await LocalFrames.ReadAsync(fromSecond))!.Value.Type);
        LocalFrames.Write(toSecond, LocalFrameType.Shutdown, ReadOnlySpan<byte>.Empty);
        await second;
        toSecond.Dispose();
        Assert.False(called);
        secondOutput.Dispose();
        secondInput.Dispose();
        fromSecond.Dispose();
    }
}
