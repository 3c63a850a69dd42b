using System;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Codec;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Workers;

/// <summary>
/// The one call loop every worker runtime shares: read the envelope, fetch the input (inline or by byte range), check
/// the signature, dispatch, write <c>output.{attempt}</c> when the result is large, then create the status object.
/// </summary>
public sealed class CallRunner
{
    private readonly Func<StoreLocation, IObjectStore> _openStore;
    private readonly string _host;
    private int _calls;

    /// <summary>Creates a runner.</summary>
    /// <param name="openStore">Opens the whole store an envelope names (cache the result: it is called per call).</param>
    /// <param name="host">This worker's host name or id, reported in statuses.</param>
    public CallRunner(Func<StoreLocation, IObjectStore> openStore, string host)
    {
        ArgumentNullException.ThrowIfNull(openStore);
        _openStore = openStore;
        _host = host;
    }

    /// <summary>Runs one attempt of one call to its status object. Never throws for the call's own failures.</summary>
    /// <param name="envelope">The invocation.</param>
    /// <param name="cancellationToken">Cancels the call (job cancelled); the envelope's deadline cancels it too.</param>
    /// <exception cref="Exception">Storage failed while writing the status: the attempt is lost and the client retries it.</exception>
    public async Task<CallOutcome> RunAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        bool cold = Interlocked.Increment(ref _calls) == 1;
        DateTimeOffset start = DateTimeOffset.UtcNow;
        IObjectStore root = _openStore(envelope.Store);
        var jobs = new PrefixedObjectStore(root, envelope.Store.Prefix);
        var user = new UserObjectStore(root, envelope.Store.Prefix);
        string job = envelope.JobId;

        await jobs.PutAsync(StorageLayout.Started(job, envelope.CallIndex, envelope.Attempt),
            Encoding.UTF8.GetBytes(_host + "\n" + start.ToString("O", CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (envelope.Deadline is { } due)
        {
            TimeSpan left = due - DateTimeOffset.UtcNow;
            deadline.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        var log = new CallLog();
        CallLog? previous = CallLog.Current;
        CallLog.Current = log;
        byte[]? result = null;
        RemoteError? error = null;
        long bytesIn = 0;
        try
        {
            ReadOnlyMemory<byte> input = envelope.InlineInput ?? await FetchInputAsync(jobs, envelope, deadline.Token).ConfigureAwait(false);
            bytesIn = input.Length;
            var context = new RemoteContext(user, job, envelope.CallIndex, envelope.Attempt, log, jobs, deadline.Token);
            var output = new ArrayBufferWriter<byte>();
            await RemoteDispatch.InvokeAsync(envelope.FunctionId, envelope.SignatureHashValue, input, context, output).ConfigureAwait(false);
            result = output.WrittenSpan.ToArray();
        }
        catch (Exception e) when (e is StaleWorkerException or CodecException or FormatException or MissingInputException)
        {
            error = RemoteErrors.Create(RemoteError.ProtocolKind, e.GetType().FullName!, e.Message, e.StackTrace);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            error = RemoteErrors.Create(RemoteError.PlatformKind, typeof(TimeoutException).FullName!,
                $"The call ran past its deadline ({envelope.Deadline:O}) and was cancelled.", e.StackTrace);
        }
        catch (Exception e)
        {
            // Bounded: a status record must fit one object and one local frame, whatever the user's exception holds.
            error = RemoteErrors.FromException(RemoteError.UserKind, e);
        }
        finally
        {
            CallLog.Current = previous;
        }

        string? outputKey = null;
        byte[]? inline = result;
        if (result is { Length: > InvocationEnvelope.InlineLimit })
        {
            outputKey = StorageLayout.Output(job, envelope.CallIndex, envelope.Attempt);
            await jobs.PutAsync(outputKey, result, CancellationToken.None).ConfigureAwait(false);
            inline = null;
        }

        var status = new StatusRecord
        {
            JobId = job,
            CallIndex = envelope.CallIndex,
            Attempt = envelope.Attempt,
            Succeeded = error is null,
            InlineResult = error is null ? inline ?? (outputKey is null ? [] : null) : null,
            OutputKey = outputKey,
            Error = error,
            WorkerStart = start,
            WorkerEnd = DateTimeOffset.UtcNow,
            ColdStart = cold,
            Host = _host,
            BytesIn = bytesIn,
            BytesOut = result?.Length ?? 0,
            Log = log.Text,
        };
        byte[] json = WireJson.Serialize(status);
        bool created = await jobs.TryCreateAsync(StorageLayout.Status(job, envelope.CallIndex), json, CancellationToken.None).ConfigureAwait(false);
        return new CallOutcome(job, envelope.CallIndex, envelope.Attempt, error is null, created, error?.Kind, created ? json : null);
    }

    private static async Task<ReadOnlyMemory<byte>> FetchInputAsync(PrefixedObjectStore jobs, InvocationEnvelope envelope, CancellationToken cancellationToken)
    {
        InputRange range = envelope.InputRange
            ?? throw new MissingInputException($"Call {envelope.CallIndex} of job {envelope.JobId} has neither an inline input nor an input range.");
        byte[] bytes = await jobs.GetRangeAsync(range.Key, range.Offset, range.Length, cancellationToken).ConfigureAwait(false)
            ?? throw new MissingInputException($"The input object '{range.Key}' of job {envelope.JobId} is missing: the job's data was deleted before call {envelope.CallIndex} ran.");
        if (bytes.Length != range.Length)
        {
            throw new MissingInputException($"The input object '{range.Key}' holds {bytes.Length} bytes at offset {range.Offset} where call {envelope.CallIndex} expected {range.Length}.");
        }

        return bytes;
    }
}

/// <summary>A call's input is missing or short in storage.</summary>
public sealed class MissingInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MissingInputException(string message)
        : base(message)
    {
    }
}
