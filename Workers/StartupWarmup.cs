using System;
using System.Globalization;
using System.Threading;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Workers;

/// <summary>
/// What a JIT worker compiles on a second thread while its main thread loads the application: the code every call
/// runs around the user's method (the envelope's decoding, the started marker's timestamp, a temporary file's name,
/// the status document, the answer: the local <see cref="LocalFrameType.Done"/> frame, or a cloud worker's JSON) and
/// the culture data that formatting loads. Without it, a fresh
/// worker's first call compiles all of that on its critical path, much of it fully optimized (the local client sets
/// <c>DOTNET_TC_QuickJitForLoops=0</c>), and the first result waits for it. The work is the same either way; the
/// warm-up only moves it onto an idle core while the process boots. It writes nothing anywhere, and a failure in it is
/// ignored: the call path then compiles what it needs itself.
/// </summary>
internal static class StartupWarmup
{
    /// <summary>Starts the warm-up on a background thread (it never keeps the process alive).</summary>
    /// <param name="local">Whether the worker serves the local pipe (binary envelopes and <see cref="LocalDone"/> frames) rather than a cloud platform (JSON).</param>
    /// <returns>The thread, or <see langword="null"/> when none could be started (the calls then compile what they need).</returns>
    public static Thread? Start(bool local)
    {
        try
        {
            Thread thread = CreateThread(local);
            thread.Start();
            return thread;
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>The warm-up's thread, not started: a background thread, so that it never keeps a worker alive.</summary>
    internal static Thread CreateThread(bool local) => new(() => Run(local)) { IsBackground = true, Name = "Neutral warm-up" };

    /// <summary>Runs the call path's own code on made-up values, without touching storage.</summary>
    /// <returns>Whether it ran to the end (false: something threw, and the rest was left to the first call).</returns>
    internal static bool Run(bool local)
    {
        try
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            _ = now.ToString("O", CultureInfo.InvariantCulture);
            _ = Guid.NewGuid().ToString("N");
            byte[] status = WireJson.Serialize(new StatusRecord
            {
                JobId = "warm-up",
                CallIndex = 0,
                Attempt = 1,
                Succeeded = true,
                InlineResult = [0],
                WorkerStart = now,
                WorkerEnd = now,
                ColdStart = true,
                Host = "warm-up",
                Log = "warm-up",
            });
            var envelope = new InvocationEnvelope
            {
                JobId = "warm-up",
                CallIndex = 0,
                FunctionId = "warm-up",
                SignatureHash = InvocationEnvelope.FormatHash(0),
                InlineInput = [0],
                Attempt = 1,
                Deadline = now,
                TimeoutSeconds = 1,
                Store = new StoreLocation(LocalWorker.LocalStoreKind, "warm-up", "warm-up/"),
            };
            var outcome = new CallOutcome("warm-up", 0, 1, true, true, null, status);
            if (local)
            {
                // The envelope as the pipe carries it (read before the call starts), and the Done frame after it.
                _ = LocalEnvelope.Decode(LocalEnvelope.Encode(envelope)).SignatureHashValue;
                _ = LocalDone.Encode(outcome);
            }
            else
            {
                // A cloud worker reads its envelope as JSON, and answers its platform with the outcome's JSON.
                _ = WireJson.DeserializeEnvelope(WireJson.Serialize(envelope)).SignatureHashValue;
                _ = outcome.ToJson();
            }

            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only a warm-up: whatever failed here is compiled (and reported) by the call that needs it.
            return false;
        }
    }
}
