using System;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>
/// The outcome of one attempt. Written last: create-only at <c>calls/{i}/status</c> when it is final (a success, or a
/// failure no retry would fix), where the first such attempt wins and the object is the one signal of completion; or at
/// <c>calls/{i}/failed.{a}</c> when another attempt may still succeed (see <see cref="StorageLayout.Failed"/>).
/// </summary>
public sealed record StatusRecord
{
    /// <summary>The protocol version.</summary>
    [JsonPropertyName("v")] public int Version { get; init; } = InvocationEnvelope.CurrentVersion;

    /// <summary>The job's id.</summary>
    [JsonPropertyName("job")] public required string JobId { get; init; }

    /// <summary>The call's index.</summary>
    [JsonPropertyName("call")] public required int CallIndex { get; init; }

    /// <summary>The attempt that wrote this status.</summary>
    [JsonPropertyName("attempt")] public required int Attempt { get; init; }

    /// <summary>Whether the call succeeded.</summary>
    [JsonPropertyName("ok")] public required bool Succeeded { get; init; }

    /// <summary>The encoded result, when it succeeded and its result is at most <see cref="InvocationEnvelope.InlineLimit"/> bytes.</summary>
    [JsonPropertyName("result")] public byte[]? InlineResult { get; init; }

    /// <summary>The key of <c>output.{attempt}</c>, when the result is larger and stored beside the status.</summary>
    [JsonPropertyName("output")] public string? OutputKey { get; init; }

    /// <summary>What went wrong, when it failed.</summary>
    [JsonPropertyName("error")] public RemoteError? Error { get; init; }

    /// <summary>When the worker started the call (UTC).</summary>
    [JsonPropertyName("start")] public DateTimeOffset WorkerStart { get; init; }

    /// <summary>When the worker finished the call (UTC).</summary>
    [JsonPropertyName("end")] public DateTimeOffset WorkerEnd { get; init; }

    /// <summary>Whether this was the worker process's first call.</summary>
    [JsonPropertyName("cold")] public bool ColdStart { get; init; }

    /// <summary>The worker's host name or id.</summary>
    [JsonPropertyName("host")] public string? Host { get; init; }

    /// <summary>Encoded argument bytes read.</summary>
    [JsonPropertyName("bytesIn")] public long BytesIn { get; init; }

    /// <summary>Encoded result bytes written.</summary>
    [JsonPropertyName("bytesOut")] public long BytesOut { get; init; }

    /// <summary>The call's captured output (stdout, stderr, <see cref="RemoteContext.Log"/>), bounded.</summary>
    [JsonPropertyName("log")] public string? Log { get; init; }
}

/// <summary>A failure reported in a <see cref="StatusRecord"/>.</summary>
/// <param name="Kind"><c>user</c> for an exception thrown by the method, <c>platform</c> for faults of the runtime, <c>protocol</c> for calls the worker cannot run.</param>
/// <param name="Type">The exception's full type name.</param>
/// <param name="Message">The exception's message.</param>
/// <param name="StackTrace">The exception's stack trace on the worker.</param>
public sealed record RemoteError(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("stack")] string? StackTrace = null)
{
    /// <summary>The kind for exceptions thrown by the user's method.</summary>
    public const string UserKind = "user";

    /// <summary>The kind for faults of the worker or platform (deadline passed, storage errors, input missing or not yet visible): retried.</summary>
    public const string PlatformKind = "platform";

    /// <summary>
    /// The kind for calls this worker cannot run at all (stale worker, undecodable or short input): not retried,
    /// since another attempt would fail the same way.
    /// </summary>
    public const string ProtocolKind = "protocol";
}
