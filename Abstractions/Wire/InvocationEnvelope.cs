using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>
/// The invocation payload sent to a worker: small JSON that says which call to run and where its input is.
/// It never carries a credential: workers reach storage with their platform identity or deployment settings.
/// </summary>
public sealed record InvocationEnvelope
{
    /// <summary>The highest protocol version this build speaks: a worker refuses an envelope of a newer one.</summary>
    public const int CurrentVersion = 5;

    /// <summary>
    /// The version of an envelope none of whose calls reads another call's result (<see cref="From"/>): a worker of
    /// version 4 still runs it, so that a new client needs a new worker only for the feature that needs one.
    /// </summary>
    public const int PlainVersion = 4;

    /// <summary>The version of an envelope some of whose calls read other calls' results (<see cref="From"/>).</summary>
    public const int InputsVersion = 5;

    /// <summary>The largest input carried inside the envelope; larger inputs are read from the job's input object.</summary>
    public const int InlineLimit = 8 * 1024;

    /// <summary>The protocol version.</summary>
    [JsonPropertyName("v")] public int Version { get; init; } = PlainVersion;

    /// <summary>The job's id.</summary>
    [JsonPropertyName("job")] public required string JobId { get; init; }

    /// <summary>The call's index in the job.</summary>
    [JsonPropertyName("call")] public required int CallIndex { get; init; }

    /// <summary>The function id.</summary>
    [JsonPropertyName("fn")] public required string FunctionId { get; init; }

    /// <summary>The signature hash, as 16 lowercase hex digits (JSON numbers lose 64-bit precision in many parsers).</summary>
    [JsonPropertyName("sig")] public required string SignatureHash { get; init; }

    /// <summary>
    /// The simple name of the assembly that defines the function, as the client sees it, so that a worker without that
    /// assembly's table says so rather than calling itself stale. Optional.
    /// </summary>
    [JsonPropertyName("lib")] public string? Assembly { get; init; }

    /// <summary>The encoded arguments, when at most <see cref="InlineLimit"/> bytes.</summary>
    [JsonPropertyName("in")] public byte[]? InlineInput { get; init; }

    /// <summary>Where the encoded arguments are, when not inline.</summary>
    [JsonPropertyName("inRef")] public InputRange? InputRange { get; init; }

    /// <summary>The attempt number, 1 for the first.</summary>
    [JsonPropertyName("attempt")] public required int Attempt { get; init; }

    /// <summary>When the attempt is abandoned (UTC), however late it started: the latest moment the client waits for it.</summary>
    [JsonPropertyName("deadline")] public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// The attempt's run time limit in seconds, counted from when the worker starts it (platform queueing does not eat
    /// into it); the worker cancels the call at the earlier of this and <see cref="Deadline"/>.
    /// </summary>
    [JsonPropertyName("timeout")] public int? TimeoutSeconds { get; init; }

    /// <summary>
    /// Whether an exception thrown by the method may be retried (<c>[Remote(RetryOnException = true)]</c>): the worker
    /// then records it as a per-attempt <c>failed.{a}</c> object rather than the call's final status.
    /// </summary>
    [JsonPropertyName("retryUser")] public bool RetryUserErrors { get; init; }

    /// <summary>Where the job's store is.</summary>
    [JsonPropertyName("store")] public required StoreLocation Store { get; init; }

    /// <summary>
    /// The job's other stores by name (<c>Neutral:Stores:{name}</c>), each where workers find it, never with a credential;
    /// <see langword="null"/> when the client names none. Added without a version change: a worker that predates it
    /// ignores the field, and a call that uses a named store then fails naming the store.
    /// </summary>
    [JsonPropertyName("stores")] public IReadOnlyDictionary<string, StoreLocation>? Stores { get; init; }

    /// <summary>
    /// The W3C trace context (<c>traceparent</c>) of the client's span for this invocation, when the client is traced:
    /// the worker's span for the call is its child. Absent otherwise.
    /// </summary>
    [JsonPropertyName("trace")] public string? TraceParent { get; init; }

    /// <summary>
    /// The launch slot the client gave this attempt (protocol version 3): the worker writes its markers into
    /// <see cref="StorageLayout.Slot"/> rather than <c>started.{a}</c> into the call's folder. Absent from clients of
    /// version 2, whose workers write no markers.
    /// </summary>
    [JsonPropertyName("slot")] public int? Slot { get; init; }

    /// <summary>
    /// More calls of the same function for this invocation to run after the first, one after another, each as its own
    /// attempt with its own markers and status (<c>Job:CallsPerInvocation</c>); absent for one call. A worker that
    /// predates it runs the first call only, and the client retries the others when they do not start.
    /// </summary>
    [JsonPropertyName("batch")] public IReadOnlyList<BatchedCall>? Batch { get; init; }

    /// <summary>
    /// The arguments that are other calls' results (protocol version 5): the worker reads each producing call's status
    /// and result and inserts the result's bytes at its offset of the encoded arguments, in order, before the call runs.
    /// </summary>
    [JsonPropertyName("from")] public IReadOnlyList<InputSource>? From { get; init; }

    /// <summary>The calls this invocation runs: this envelope's own call, then each of <see cref="Batch"/>, each as an envelope of one call.</summary>
    public IEnumerable<InvocationEnvelope> Calls()
    {
        if (Batch is not { Count: > 0 } batch)
        {
            yield return this;
            yield break;
        }

        yield return this with { Batch = null };
        foreach (BatchedCall call in batch)
        {
            yield return this with
            {
                CallIndex = call.CallIndex,
                Attempt = call.Attempt,
                Slot = call.Slot,
                InlineInput = call.InlineInput,
                InputRange = call.InputRange,
                From = call.From,
                Batch = null,
            };
        }
    }

    /// <summary>The signature hash as a number.</summary>
    [JsonIgnore]
    public ulong SignatureHashValue => ParseHash(SignatureHash);

    /// <summary>Formats a signature hash for <see cref="SignatureHash"/>.</summary>
    public static string FormatHash(ulong hash) => hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses a signature hash written by <see cref="FormatHash"/>.</summary>
    /// <exception cref="FormatException">The text is not 16 hex digits.</exception>
    public static ulong ParseHash(string text) =>
        text is { Length: 16 } && ulong.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out ulong value)
            ? value
            : throw new FormatException($"A signature hash must be 16 hex digits, found '{text}'.");
}

/// <summary>A further call of an invocation (<see cref="InvocationEnvelope.Batch"/>): what differs from the envelope's own call.</summary>
/// <param name="CallIndex">The call's index in the job.</param>
/// <param name="Attempt">The attempt number.</param>
/// <param name="Slot">The attempt's launch slot.</param>
/// <param name="InlineInput">The encoded arguments, when inline.</param>
/// <param name="InputRange">Where the encoded arguments are, when not inline.</param>
/// <param name="From">The arguments that are other calls' results (<see cref="InvocationEnvelope.From"/>).</param>
public sealed record BatchedCall(
    [property: JsonPropertyName("call")] int CallIndex,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("slot")] int? Slot = null,
    [property: JsonPropertyName("in")] byte[]? InlineInput = null,
    [property: JsonPropertyName("inRef")] InputRange? InputRange = null,
    [property: JsonPropertyName("from")] IReadOnlyList<InputSource>? From = null);

/// <summary>An argument that is another call's result: where its bytes go, and the call whose stored result they are.</summary>
/// <param name="Offset">Where the result's encoded bytes go in the call's encoded arguments (before the previous inputs are inserted).</param>
/// <param name="JobId">The producing call's job (in the same store as this job).</param>
/// <param name="CallIndex">The producing call's index.</param>
/// <param name="Parameter">The parameter's name, for errors.</param>
public sealed record InputSource(
    [property: JsonPropertyName("at")] int Offset,
    [property: JsonPropertyName("job")] string JobId,
    [property: JsonPropertyName("call")] int CallIndex,
    [property: JsonPropertyName("name")] string? Parameter = null);

/// <summary>A byte range of an object holding a call's encoded arguments.</summary>
/// <param name="Key">The object's key in the job's internal space.</param>
/// <param name="Offset">The first byte.</param>
/// <param name="Length">The number of bytes.</param>
public sealed record InputRange(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("length")] int Length);

/// <summary>Where a job's objects are stored: never credentials, only the place.</summary>
/// <param name="Kind">The store kind: <c>local</c>, or one a provider registers (<c>s3</c>, <c>redis</c>, ...).</param>
/// <param name="Bucket">The bucket, container or root folder.</param>
/// <param name="Prefix">The key prefix under which Neutral's objects live.</param>
public sealed record StoreLocation(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("bucket")] string Bucket,
    [property: JsonPropertyName("prefix")] string Prefix);
