using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Workers;

/// <summary>
/// <c>NEUTRAL_WORKER=replay</c>: the application runs one stored call in its own process, in the user's own build, so
/// that a debugger attached to it stops in the <c>[Remote]</c> method (<c>neutral replay</c> starts it this way). The
/// call comes as an envelope in the file <c>NEUTRAL_REPLAY</c> names, its arguments inline; the stores it names are
/// opened as a worker opens them. The call runs as it ran in the worker, without a deadline, and writes nothing of its
/// own to the store (no status, no output object): what it prints and what it throws go to the console.
/// Exit codes: 0 the call returned, 1 it threw (the failure is reproduced), 2 it could not be run (the build's
/// signature differs from the job's, the function is not in this build, the file is unreadable).
/// </summary>
internal static class Replay
{
    /// <summary>The runtime name (<c>NEUTRAL_WORKER</c>'s value).</summary>
    public const string RuntimeName = "replay";

    /// <summary>The variable naming the envelope's file.</summary>
    public const string FileVariable = "NEUTRAL_REPLAY";

    /// <summary>Set to 1: wait for a debugger to attach before running the call.</summary>
    public const string WaitVariable = "NEUTRAL_REPLAY_WAIT";

    /// <summary>Runs the call the variables name; returns the exit code.</summary>
    public static async Task<int> RunAsync(TextWriter output, TextWriter error, Func<StoreLocation, IObjectStore> openStore, CancellationToken cancellationToken)
    {
        InvocationEnvelope envelope;
        try
        {
            string path = Environment.GetEnvironmentVariable(FileVariable)
                ?? throw new InvalidOperationException($"{FileVariable} is not set: it names the file of the call to replay (neutral replay writes it).");
            envelope = WireJson.DeserializeEnvelope(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            await error.WriteLineAsync("neutral replay: " + e.Message).ConfigureAwait(false);
            return 2;
        }

        if (envelope.InlineInput is not { } input)
        {
            await error.WriteLineAsync("neutral replay: the call's arguments are not in the file.").ConfigureAwait(false);
            return 2;
        }

        if (Mismatch(envelope) is { } mismatch)
        {
            await error.WriteLineAsync("neutral replay: " + mismatch).ConfigureAwait(false);
            return 2;
        }

        if (Environment.GetEnvironmentVariable(WaitVariable) == "1")
        {
            await output.WriteLineAsync($"Waiting for a debugger to attach to process {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} ...").ConfigureAwait(false);
            while (!Debugger.IsAttached)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        IObjectStore root;
        Dictionary<string, IObjectStore>? named;
        try
        {
            root = openStore(envelope.Store);
            named = envelope.Stores?.ToDictionary(s => s.Key, s => openStore(s.Value), StringComparer.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await error.WriteLineAsync($"neutral replay: the job's store cannot be opened here ({e.GetType().Name}: {e.Message.Split('\n', 2)[0]}): is the store's provider referenced by the app, and its credentials in the environment?").ConfigureAwait(false);
            return 2;
        }

        var jobs = new PrefixedObjectStore(root, envelope.Store.Prefix);
        var user = new UserObjectStore(root, envelope.Store.Prefix);
        var context = new RemoteContext(user, envelope.JobId, envelope.CallIndex, envelope.Attempt, output, jobs, cancellationToken) { NamedStores = named };
        var result = new ArrayBufferWriter<byte>();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Replaying call {envelope.CallIndex} of job {envelope.JobId} in process {Environment.ProcessId}: {envelope.FunctionId}, attempt {envelope.Attempt}, {input.Length} bytes of arguments.")).ConfigureAwait(false);
        try
        {
            await RemoteDispatch.InvokeAsync(envelope.FunctionId, envelope.SignatureHashValue, envelope.Assembly, input, context, result).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StaleWorkerException or MissingDispatchTableException)
        {
            await error.WriteLineAsync("neutral replay: " + e.Message).ConfigureAwait(false);
            return 2;
        }
        catch (Exception e)
        {
            // The method's own exception, with the stack trace of this run.
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            await error.WriteLineAsync($"The call threw {e}").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"The call returned ({result.WrittenCount} bytes of result): it did not fail this time.")).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Why this build cannot run the call (its function missing or of another signature), or null.</summary>
    internal static string? Mismatch(InvocationEnvelope envelope)
    {
        RemoteFunctionInfo mine = RemoteDispatch.Functions.FirstOrDefault(f => f.Id == envelope.FunctionId);
        if (mine.Id is null)
        {
            return $"this build has no [Remote] method {envelope.FunctionId}, which job {envelope.JobId} called: run the replay from the application that ran the job, built from the same code.";
        }

        return mine.SignatureHash != envelope.SignatureHashValue
            ? $"this build's {envelope.FunctionId} has signature hash {InvocationEnvelope.FormatHash(mine.SignatureHash)}, but job {envelope.JobId} called {envelope.SignatureHash}: "
              + "the method, its parameters' types or Neutral changed since. Build the code the job ran (e.g. check out its commit) to replay it."
            : null;
    }
}
