using System;
using System.Diagnostics;
using System.IO;
using System.Buffers;
using System.Collections.Generic;
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
    private readonly TimeProvider _time;
    private int _calls;

    /// <summary>The worker's traces: a <c>neutral.call</c> span per attempt, child of the client's invocation span.</summary>
    internal static readonly ActivitySource Source = new("Neutral", typeof(CallRunner).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// The call's span when the client is traced (the envelope carries its context): recorded where someone listens
    /// in this process, and in any case current while the call runs, so that the call's own spans, logs and outgoing
    /// requests carry the client's trace.
    /// </summary>
    private static Activity? StartSpan(InvocationEnvelope envelope)
    {
        if (envelope.TraceParent is not { } parent)
        {
            return null;
        }

        Activity? span = Source.StartActivity("neutral.call", ActivityKind.Server, parent);
        if (span is null)
        {
            span = new Activity("neutral.call");
            span.SetParentId(parent);
            span.Start();
        }

        return span.SetTag("neutral.job.id", envelope.JobId).SetTag("neutral.call", envelope.CallIndex).SetTag("neutral.attempt", envelope.Attempt)
            .SetTag("neutral.function", envelope.FunctionId);
    }

    /// <summary>
    /// Where each call's output (console and <see cref="RemoteContext.Log"/>) is also written, line by line, prefixed
    /// with the call index; <see langword="null"/> (default): only into the call's log.
    /// </summary>
    internal TextWriter? Echo { get; set; }

    /// <summary>Creates a runner.</summary>
    /// <param name="openStore">Opens the whole store an envelope names (cache the result: it is called per call).</param>
    /// <param name="host">This worker's host name or id, reported in statuses.</param>
    public CallRunner(Func<StoreLocation, IObjectStore> openStore, string host)
        : this(openStore, host, TimeProvider.System)
    {
    }

    /// <summary>Creates a runner on a given clock (tests run workers on a fake clock).</summary>
    /// <param name="openStore">Opens the whole store an envelope names (cache the result: it is called per call).</param>
    /// <param name="host">This worker's host name or id, reported in statuses.</param>
    /// <param name="timeProvider">The clock for timestamps and the envelope's deadline.</param>
    public CallRunner(Func<StoreLocation, IObjectStore> openStore, string host, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(openStore);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _openStore = openStore;
        _host = host;
        _time = timeProvider;
    }

    /// <summary>
    /// Whether an attempt first checks that its job still exists (its manifest), and writes nothing when it does not:
    /// for platforms that queue invocations (a cloud's queue may hand out an attempt after its job was cancelled and
    /// deleted). The read runs beside the <c>started</c> marker's write, so it adds no latency. The local pool drops a
    /// cancelled job's queued attempts itself and leaves this off.
    /// </summary>
    public bool ChecksJobBeforeStart { get; init; }

    /// <summary>
    /// Runs a launcher call (<c>Job:InvokeFrom=cloud</c>: an invocation that invokes a staged list of the job's
    /// attempts from inside the platform); set by a platform's worker runtime from <c>CloudLaunch.Handler</c> with an
    /// invoker built from what the platform gives a running function. <see langword="null"/> (default): this worker
    /// cannot invoke its own function, and a launcher call records each of its attempts as failed, so that the client
    /// launches them again itself.
    /// </summary>
    public Func<InvocationEnvelope, CancellationToken, Task<CallOutcome>>? LaunchHandler { get; init; }

    /// <summary>The reserved function id of a launcher call (see <see cref="LaunchHandler"/>).</summary>
    public const string LaunchFunctionId = "neutral:launch";

    /// <summary>Runs one attempt of one call to its status object. Never throws for the call's own failures.</summary>
    /// <param name="envelope">The invocation.</param>
    /// <param name="cancellationToken">Cancels the call (job cancelled); the envelope's deadline cancels it too.</param>
    /// <exception cref="Exception">Storage failed while writing the status: the attempt is lost and the client retries it.</exception>
    public async Task<CallOutcome> RunAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Batch is { Count: > 0 })
        {
            return await RunBatchAsync(envelope, cancellationToken).ConfigureAwait(false);
        }

        if (envelope.FunctionId == LaunchFunctionId)
        {
            return LaunchHandler is { } launch
                ? await launch(envelope, cancellationToken).ConfigureAwait(false)
                : await RefuseLaunchAsync(envelope).ConfigureAwait(false);
        }

        bool cold = Interlocked.Increment(ref _calls) == 1;
        DateTimeOffset start = _time.GetUtcNow();
        IObjectStore root = _openStore(envelope.Store);
        var jobs = new PrefixedObjectStore(root, envelope.Store.Prefix);
        var user = new UserObjectStore(root, envelope.Store.Prefix);
        string job = envelope.JobId;

        // A storage failure before the call runs is the platform's fault, reported in the status (retried) when the
        // status can still be written. The marker is written even for a cancelled call: it is tiny, and records the attempt.
        RemoteError? error = envelope.Version > InvocationEnvelope.CurrentVersion
            ? RemoteErrors.Create(RemoteError.ProtocolKind, "Neutral.ProtocolVersion",
                $"The client speaks Neutral's protocol version {envelope.Version}; this worker knows version {InvocationEnvelope.CurrentVersion} at most. Deploy the worker again from the client's build.", null)
            : null;
        string startedKey = envelope.Slot is { } slot
            ? StorageLayout.SlotMarker(job, slot, envelope.CallIndex, envelope.Attempt, StorageLayout.StartedMarker)
            : StorageLayout.Started(job, envelope.CallIndex, envelope.Attempt);
        Task<bool>? exists = ChecksJobBeforeStart ? JobExistsAsync(jobs, job) : null;
        try
        {
            await jobs.PutAsync(startedKey, Encoding.UTF8.GetBytes(_host + "\n" + start.ToString("O", CultureInfo.InvariantCulture)), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error ??= StorageError(e, $"writing '{startedKey}'", envelope);
        }

        if (exists is not null && !await exists.ConfigureAwait(false))
        {
            // The job was cancelled or finished while this attempt waited in the platform's queue: take back the marker.
            await DeleteQuietlyAsync(jobs, startedKey).ConfigureAwait(false);
            return new CallOutcome(job, envelope.CallIndex, envelope.Attempt, false, false, JobGoneKind);
        }

        DateTimeOffset? due = envelope.Deadline;
        if (envelope.TimeoutSeconds is { } seconds && (due is null || start.AddSeconds(seconds) < due))
        {
            due = start.AddSeconds(seconds);
        }

        // Named as the call's own timeout when that is what ends it (a deadline the platform set from it counts), else
        // as the platform's (a Lambda function's or a Function App's shorter limit).
        string limit = envelope.TimeoutSeconds is { } timeout && due is { } end && end >= start.AddSeconds(timeout - 1)
            ? RemoteErrors.TimeoutText(timeout)
            : $"the platform's deadline ({due:O})";

        using var deadline = due is { } at
            ? new CancellationTokenSource(Max(at - _time.GetUtcNow(), TimeSpan.Zero), _time)
            : new CancellationTokenSource();
        using var linked = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), deadline);

        var log = new CallLog();
        if (Echo is { } echo)
        {
            string call = envelope.CallIndex.ToString(CultureInfo.InvariantCulture);
            log.StartEcho(echo, envelope.Attempt > 1 ? $"(call {call}, attempt {envelope.Attempt.ToString(CultureInfo.InvariantCulture)}) " : $"(call {call}) ");
        }

        CallLog? previous = CallLog.Current;
        CallLog.Current = log;
        byte[]? result = null;
        long bytesIn = 0;
        // Read only when traced: an untraced call pays for one null check.
        Activity? previousActivity = envelope.TraceParent is null ? null : Activity.Current;
        using Activity? span = StartSpan(envelope);
        try
        {
            if (error is null)
            {
                ReadOnlyMemory<byte> input = envelope.InlineInput ?? await FetchInputAsync(jobs, envelope, deadline.Token).ConfigureAwait(false);
                if (envelope.From is { Count: > 0 } from)
                {
                    input = await SpliceInputsAsync(jobs, envelope, from, input, deadline.Token).ConfigureAwait(false);
                }

                bytesIn = input.Length;
                var context = new RemoteContext(user, job, envelope.CallIndex, envelope.Attempt, log, jobs, deadline.Token) { NamedStores = OpenNamed(envelope) };
                var output = new ArrayBufferWriter<byte>();
                if (envelope.FunctionId == WorkerProbe.FunctionId)
                {
                    WorkerProbe.Run(envelope.SignatureHashValue, input, output);
                }
                else
                {
                    await RemoteDispatch.InvokeAsync(envelope.FunctionId, envelope.SignatureHashValue, envelope.Assembly, input, context, output).ConfigureAwait(false);
                }
                result = output.WrittenSpan.ToArray();
            }
        }
        catch (StorageFaultException e)
        {
            error = StorageError(e.InnerException!, e.Message, envelope);
        }
        catch (Exception e) when (e is StaleWorkerException or MissingDispatchTableException or CodecException or FormatException or MissingInputException)
        {
            error = RemoteErrors.Create(RemoteError.ProtocolKind, e.GetType().FullName!, e.Message, e.StackTrace);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            error = RemoteErrors.Create(RemoteError.PlatformKind, typeof(TimeoutException).FullName!,
                $"The call ran past {limit} and was cancelled.", e.StackTrace);
        }
        catch (Exception e)
        {
            // Bounded: a status record must fit one object and one local frame, whatever the user's exception holds.
            error = RemoteErrors.FromException(RemoteError.UserKind, e);
        }
        finally
        {
            CallLog.Current = previous;
            log.EndEcho();
            if (span is not null)
            {
                if (error is not null)
                {
                    span.SetStatus(ActivityStatusCode.Error, error.Type + ": " + error.Message);
                }

                span.Stop();
                Activity.Current = previousActivity;
            }
        }

        // A call that ran long may have outlived its job (a speculative loser, a call that ignored cancellation): when
        // the job's manifest is gone, write nothing rather than recreate objects in a cleaned job. One small read, and
        // only for calls that ran a second or more, where it costs next to nothing; the client's second cleanup pass
        // catches the short ones.
        if (_time.GetUtcNow() - start >= LateWriterCheckAfter && !await JobExistsAsync(jobs, job).ConfigureAwait(false))
        {
            return new CallOutcome(job, envelope.CallIndex, envelope.Attempt, false, false, JobGoneKind);
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
            WorkerEnd = _time.GetUtcNow(),
            ColdStart = cold,
            Host = _host,
            BytesIn = bytesIn,
            BytesOut = result?.Length ?? 0,
            Log = log.Text,
        };
        byte[] json = WireJson.Serialize(status);
        if (error is not null && IsRetryable(error, envelope))
        {
            // Another attempt may still succeed: record this one's failure under its own name, so that the call's
            // create-only status stays free for that attempt (protocol version 2).
            await jobs.PutAsync(StorageLayout.Failed(job, envelope.CallIndex, envelope.Attempt), json, CancellationToken.None).ConfigureAwait(false);
            await MarkAsync(jobs, envelope, StorageLayout.FailedMarker).ConfigureAwait(false);
            return new CallOutcome(job, envelope.CallIndex, envelope.Attempt, false, false, error.Kind, json);
        }

        bool created = await jobs.TryCreateAsync(StorageLayout.Status(job, envelope.CallIndex), json, CancellationToken.None).ConfigureAwait(false);
        if (created)
        {
            // From protocol version 4 a small success rides in its marker's name: the client need not read it back.
            await MarkAsync(jobs, envelope, StorageLayout.StatusMarker, envelope.Version >= 4 ? MarkerStatus.Encode(status) : null).ConfigureAwait(false);
        }

        return new CallOutcome(job, envelope.CallIndex, envelope.Attempt, error is null, created, error?.Kind, created ? json : null);
    }

    /// <summary>
    /// Writes the attempt's marker of <paramref name="kind"/> into its launch slot (protocol version 3), after the object it
    /// points at; a status marker may carry its status (<paramref name="payload"/>, version 4). Best effort: the object is the truth, and a client that misses the marker finds the object by reading it
    /// directly (at the attempt's deadline, or among a job's last pending calls), later but never wrongly.
    /// </summary>
    private static async Task MarkAsync(PrefixedObjectStore jobs, InvocationEnvelope envelope, string kind, string? payload = null)
    {
        if (envelope.Slot is not { } slot)
        {
            return;
        }

        try
        {
            string key = payload is null
                ? StorageLayout.SlotMarker(envelope.JobId, slot, envelope.CallIndex, envelope.Attempt, kind)
                : StorageLayout.StatusMarkerOf(envelope.JobId, slot, envelope.CallIndex, envelope.Attempt, payload);
            await jobs.PutAsync(key, ReadOnlyMemory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Found without it (see above).
        }
    }

    /// <summary>A launcher call on a worker that cannot invoke its function: each attempt it lists is recorded as not run.</summary>
    private async Task<CallOutcome> RefuseLaunchAsync(InvocationEnvelope launcher)
    {
        try
        {
            IObjectStore root = _openStore(launcher.Store);
            (InvocationEnvelope[] envelopes, _) = await LaunchList.ReadAsync(root, launcher, CancellationToken.None).ConfigureAwait(false);
            foreach (InvocationEnvelope envelope in envelopes)
            {
                await RecordNotRunAsync(root, envelope, $"The worker ({_host}) cannot invoke its own function, so launcher call {launcher.Attempt} could not launch this attempt.", _time).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The attempts reach their start bound instead, and the client launches them again.
        }

        return new CallOutcome(launcher.JobId, launcher.CallIndex, launcher.Attempt, false, false, NoLauncherKind);
    }

    /// <summary>
    /// Records that attempt <see cref="InvocationEnvelope.Attempt"/> of <paramref name="envelope"/>'s call never ran,
    /// for <paramref name="reason"/> (a launcher call could not invoke it): a platform error in <c>failed.{a}</c> and
    /// its slot marker, so that the client launches the call again at once rather than at the attempt's start bound.
    /// </summary>
    internal static async Task RecordNotRunAsync(IObjectStore root, InvocationEnvelope envelope, string reason, TimeProvider time)
    {
        var jobs = new PrefixedObjectStore(root, envelope.Store.Prefix);
        DateTimeOffset now = time.GetUtcNow();
        var status = new StatusRecord
        {
            JobId = envelope.JobId,
            CallIndex = envelope.CallIndex,
            Attempt = envelope.Attempt,
            Succeeded = false,
            Error = RemoteErrors.Create(RemoteError.PlatformKind, "Neutral.NotLaunched", reason, null),
            WorkerStart = now,
            WorkerEnd = now,
            Host = "launcher",
        };
        await jobs.PutAsync(StorageLayout.Failed(envelope.JobId, envelope.CallIndex, envelope.Attempt), WireJson.Serialize(status), CancellationToken.None).ConfigureAwait(false);
        await MarkAsync(jobs, envelope, StorageLayout.FailedMarker).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs an invocation's calls one after another, each as its own attempt (its own markers, deadline and status), and
    /// returns the first one's outcome. A call whose status could not be written is lost alone: the client retries it
    /// at its deadline, and the others go on. Cancellation (the job's) stops the calls not yet started.
    /// </summary>
    private async Task<CallOutcome> RunBatchAsync(InvocationEnvelope envelope, CancellationToken cancellationToken)
    {
        CallOutcome? first = null;
        Exception? lost = null;
        foreach (InvocationEnvelope call in envelope.Calls())
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            try
            {
                CallOutcome outcome = await RunAsync(call, cancellationToken).ConfigureAwait(false);
                first ??= outcome;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lost ??= e;
            }
        }

        return first ?? throw (lost ?? new OperationCanceledException(cancellationToken));
    }

    /// <summary>A platform error for a storage failure outside the user's code; <paramref name="doing"/> says what failed.</summary>
    private static RemoteError StorageError(Exception e, string doing, InvocationEnvelope envelope) =>
        RemoteErrors.Create(RemoteError.PlatformKind, e.GetType().FullName!,
            $"Storage failed while {doing} for call {envelope.CallIndex} of job {envelope.JobId} (attempt {envelope.Attempt}): {RemoteErrors.Message(e)}",
            e.ToString());

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>How long a call must have run before the runner checks that its job still exists before writing.</summary>
    public static readonly TimeSpan LateWriterCheckAfter = TimeSpan.FromSeconds(1);

    /// <summary>The <see cref="CallOutcome.ErrorKind"/> of an attempt whose job was deleted while it ran: it wrote nothing.</summary>
    public const string JobGoneKind = "job-gone";

    /// <summary>The <see cref="CallOutcome.ErrorKind"/> of a launcher call on a worker without a <see cref="LaunchHandler"/>.</summary>
    public const string NoLauncherKind = "no-launcher";

    /// <summary>The job's other stores, opened (once per location and process) from the envelope's locations.</summary>
    private Dictionary<string, IObjectStore>? OpenNamed(InvocationEnvelope envelope)
    {
        if (envelope.Stores is not { Count: > 0 } locations)
        {
            return null;
        }

        var stores = new Dictionary<string, IObjectStore>(locations.Count, StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, StoreLocation> named in locations)
        {
            stores[named.Key] = _openStore(named.Value);
        }

        return stores;
    }

    private static async Task DeleteQuietlyAsync(PrefixedObjectStore jobs, string key)
    {
        try
        {
            await jobs.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Garbage in a deleted job: the client's second pass or a later sweep removes it.
        }
    }

    private static async Task<bool> JobExistsAsync(PrefixedObjectStore jobs, string job)
    {
        try
        {
            return await jobs.GetRangeAsync(StorageLayout.Manifest(job), 0, 1, CancellationToken.None).ConfigureAwait(false) is not null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Cannot tell: write as usual (a late write is harmless garbage; a lost outcome is not).
            return true;
        }
    }

    /// <summary>Whether another attempt could end differently: platform faults always, user exceptions when the method says so.</summary>
    public static bool IsRetryable(RemoteError error, InvocationEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(envelope);
        return error.Kind switch
        {
            RemoteError.PlatformKind => true,
            RemoteError.UserKind => envelope.RetryUserErrors,
            _ => false,
        };
    }

    /// <summary>Inputs read at once by one call (a fan-in of a thousand results reads them this many at a time).</summary>
    private const int InputReadConcurrency = 32;

    /// <summary>
    /// Reads each producing call's status and result (<see cref="InvocationEnvelope.From"/>) and inserts the result's
    /// encoded bytes at its offset of <paramref name="given"/>, the arguments given by value: a result of type T is
    /// encoded as an argument of type T is, so the bytes go in as they are.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>> SpliceInputsAsync(PrefixedObjectStore jobs, InvocationEnvelope envelope, IReadOnlyList<InputSource> from, ReadOnlyMemory<byte> given, CancellationToken cancellationToken)
    {
        var parts = new byte[from.Count][];
        using var gate = new SemaphoreSlim(InputReadConcurrency);
        var reads = new Task[from.Count];
        for (int n = 0; n < from.Count; n++)
        {
            int index = n;
            reads[n] = ReadOneAsync();

            async Task ReadOneAsync()
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    parts[index] = await ReadProducedAsync(jobs, envelope, from[index], cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            }
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
        long total = given.Length;
        int last = 0;
        foreach (InputSource source in from)
        {
            if (source.Offset < last || source.Offset > given.Length)
            {
                throw new MissingInputException($"Input '{source.Parameter}' of call {envelope.CallIndex} of job {envelope.JobId} is at offset {source.Offset}, outside the call's {given.Length} bytes of arguments or before the input ahead of it.");
            }

            last = source.Offset;
        }

        foreach (byte[] part in parts)
        {
            total += part.Length;
        }

        byte[] spliced = GC.AllocateUninitializedArray<byte>(checked((int)total));
        ReadOnlySpan<byte> rest = given.Span;
        int taken = 0;
        int written = 0;
        for (int n = 0; n < from.Count; n++)
        {
            int upTo = from[n].Offset;
            rest[taken..upTo].CopyTo(spliced.AsSpan(written));
            written += upTo - taken;
            taken = upTo;
            parts[n].CopyTo(spliced.AsSpan(written));
            written += parts[n].Length;
        }

        rest[taken..].CopyTo(spliced.AsSpan(written));
        return spliced;
    }

    /// <summary>One producing call's encoded result: inline in its status, or in the output object the status names.</summary>
    private static async Task<byte[]> ReadProducedAsync(PrefixedObjectStore jobs, InvocationEnvelope envelope, InputSource source, CancellationToken cancellationToken)
    {
        string name = $"input '{source.Parameter}' (call {source.CallIndex.ToString(CultureInfo.InvariantCulture)} of job {source.JobId})";
        string statusKey = StorageLayout.Status(source.JobId, source.CallIndex);
        byte[]? bytes;
        try
        {
            bytes = await jobs.GetAsync(statusKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new StorageFaultException($"reading the status of {name}", e);
        }

        // Missing: the client launches a call only once its inputs have succeeded, so the producing job's data was
        // deleted, or the store's reads lag its writes; another attempt may find it (the platform's fault, retried).
        if (bytes is null)
        {
            throw new StorageFaultException($"reading the status of {name}",
                new MissingInputException($"The status of {name} is missing: that job's data was deleted, or is not visible yet, when call {envelope.CallIndex} of job {envelope.JobId} ran."));
        }

        StatusRecord status = WireJson.DeserializeStatus(bytes);
        if (!status.Succeeded)
        {
            throw new MissingInputException($"The {name} did not succeed ({status.Error?.Type}: {status.Error?.Message}), so call {envelope.CallIndex} of job {envelope.JobId} has no value for it.");
        }

        if (status.InlineResult is { } inline)
        {
            return inline;
        }

        string key = status.OutputKey ?? throw new MissingInputException($"The status of {name} holds neither a result nor the key of one.");
        byte[]? output;
        try
        {
            output = await jobs.GetAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new StorageFaultException($"reading the result of {name}", e);
        }

        return output ?? throw new StorageFaultException($"reading the result of {name}",
            new MissingInputException($"The result object '{key}' of {name} is missing: that job's data was deleted when call {envelope.CallIndex} of job {envelope.JobId} ran."));
    }

    private static async Task<ReadOnlyMemory<byte>> FetchInputAsync(PrefixedObjectStore jobs, InvocationEnvelope envelope, CancellationToken cancellationToken)
    {
        InputRange range = envelope.InputRange
            ?? throw new MissingInputException($"Call {envelope.CallIndex} of job {envelope.JobId} has neither an inline input nor an input range.");
        byte[]? fetched;
        try
        {
            fetched = await jobs.GetRangeAsync(range.Key, range.Offset, range.Length, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Not our cancellation (an HTTP client's timeout is an OperationCanceledException too): the store failed.
            throw new StorageFaultException($"reading the input '{range.Key}'", e);
        }

        // Missing rather than short: the job's data was deleted, or a store's reads lag its writes. Another attempt may
        // find it, so it is the platform's fault (retried), where a short input is a broken job (not retried).
        byte[] bytes = fetched ?? throw new StorageFaultException($"reading the input '{range.Key}'",
            new MissingInputException($"The input object '{range.Key}' of job {envelope.JobId} is missing: the job's data was deleted, or is not visible yet, when call {envelope.CallIndex} ran."));
        if (bytes.Length != range.Length)
        {
            throw new MissingInputException($"The input object '{range.Key}' holds {bytes.Length} bytes at offset {range.Offset} where call {envelope.CallIndex} expected {range.Length}.");
        }

        return bytes;
    }
}

/// <summary>A storage operation outside the user's code failed (the inner exception says how): a platform fault.</summary>
internal sealed class StorageFaultException : Exception
{
    public StorageFaultException(string doing, Exception innerException)
        : base(doing, innerException)
    {
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
