using System;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>The job manifest at <c>jobs/{jobId}/job.json</c>: what the job runs and how many calls it has.</summary>
public sealed record JobManifest
{
    /// <summary>The protocol version.</summary>
    [JsonPropertyName("v")] public int Version { get; init; } = InvocationEnvelope.CurrentVersion;

    /// <summary>The job's id.</summary>
    [JsonPropertyName("job")] public required string JobId { get; init; }

    /// <summary>The function id.</summary>
    [JsonPropertyName("fn")] public required string FunctionId { get; init; }

    /// <summary>The signature hash (16 hex digits).</summary>
    [JsonPropertyName("sig")] public required string SignatureHash { get; init; }

    /// <summary>The number of calls.</summary>
    [JsonPropertyName("calls")] public required int CallCount { get; init; }

    /// <summary>The byte offset of each call's arguments in <c>input.bin</c>, plus the total length at the end (<see cref="CallCount"/> + 1 entries).</summary>
    [JsonPropertyName("offsets")] public long[]? InputOffsets { get; init; }

    /// <summary>The client library version that created the job.</summary>
    [JsonPropertyName("client")] public required string ClientVersion { get; init; }

    /// <summary>
    /// The client that owns the job, as <c>{host}/{process id}/{process start ticks}</c>: a later client on the same store
    /// sweeps jobs whose owner is gone (see <c>Job:SweepAfterHours</c>).
    /// </summary>
    [JsonPropertyName("owner")] public string? Owner { get; init; }

    /// <summary>When the job was submitted (UTC).</summary>
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }

    /// <summary>
    /// Whether the client keeps the job's data once it ends (<c>Job:KeepData</c>): such a job is swept by age alone,
    /// never at once because its owner is gone (its owner ending is what it was kept for).
    /// </summary>
    [JsonPropertyName("keep")] public bool Kept { get; init; }

    /// <summary>
    /// Whether the calls run more than one function: <see cref="FunctionId"/> is the first call's, and
    /// <see cref="Functions"/> with <see cref="FunctionRuns"/> say which call runs which (a client attaching to a mixed
    /// job without them, written before they existed, refuses it).
    /// </summary>
    [JsonPropertyName("mixed")] public bool MixedFunctions { get; init; }

    /// <summary>With <see cref="MixedFunctions"/>: every function the job runs, in the order of their first calls.</summary>
    [JsonPropertyName("fns")] public JobFunction[]? Functions { get; init; }

    /// <summary>
    /// With <see cref="Functions"/>: pairs of (first call index, index into <see cref="Functions"/>) in call order. The
    /// calls from one pair's first index up to the next pair's (or the last call) run that function; the first pair's
    /// index is 0.
    /// </summary>
    [JsonPropertyName("runs")] public int[]? FunctionRuns { get; init; }

    /// <summary>Whether some calls take other calls' results (protocol version 5): a client attaching to the job refuses it.</summary>
    [JsonPropertyName("inputs")] public bool HasInputs { get; init; }
}

/// <summary>A function a job of several functions runs (<see cref="JobManifest.Functions"/>).</summary>
public sealed record JobFunction
{
    /// <summary>The function id.</summary>
    [JsonPropertyName("fn")] public required string Id { get; init; }

    /// <summary>The signature hash (16 hex digits).</summary>
    [JsonPropertyName("sig")] public required string SignatureHash { get; init; }
}
