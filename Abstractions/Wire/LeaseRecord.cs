using System;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>
/// Who drives a job, or is attached to it (<c>jobs/{jobId}/lease/{generation}</c>, <c>jobs/{jobId}/attached/{client}</c>):
/// the client, where it runs, and when it last renewed the record. Only the driver launches attempts; a record not
/// renewed for the lease's length is expired, and another attached client may take the job over with the next generation.
/// </summary>
public sealed record LeaseRecord
{
    /// <summary>The client's id (its shared values' folder).</summary>
    [JsonPropertyName("client")] public required string ClientId { get; init; }

    /// <summary>The client's process, as a manifest's owner: <c>{host}/{process id}/{process start ticks}</c>.</summary>
    [JsonPropertyName("owner")] public required string Owner { get; init; }

    /// <summary>The lease's generation: 0 for the client that submitted the job, one more for each takeover.</summary>
    [JsonPropertyName("gen")] public int Generation { get; init; }

    /// <summary>When the client last renewed the record, by its clock.</summary>
    [JsonPropertyName("renewed")] public DateTimeOffset Renewed { get; init; }

    /// <summary>How many times it was renewed: a reader sees that it changed without trusting the writer's clock.</summary>
    [JsonPropertyName("beat")] public long Beat { get; init; }

    /// <summary>Seconds after its last renewal that the record expires (<c>Job:LeaseSeconds</c> of its writer).</summary>
    [JsonPropertyName("seconds")] public int Seconds { get; init; }
}
