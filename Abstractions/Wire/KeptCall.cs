using System;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>
/// A failed call kept for <c>neutral replay</c> at <c>kept/{jobId}/{call}.json</c> (see <c>Job:KeepFailedHours</c>),
/// outside the job's folder, so that it outlives the job's data: the call's last envelope with its arguments inline,
/// the error it ended with, and until when it is kept.
/// </summary>
public sealed record KeptCall
{
    /// <summary>The call's last attempt as it was invoked, its arguments inline whatever their size.</summary>
    [JsonPropertyName("call")] public required InvocationEnvelope Call { get; init; }

    /// <summary>The error the call ended with.</summary>
    [JsonPropertyName("error")] public required RemoteError Error { get; init; }

    /// <summary>When the client recorded the failure (UTC).</summary>
    [JsonPropertyName("failed")] public DateTimeOffset Failed { get; init; }

    /// <summary>After this time (UTC) a client's sweep deletes it.</summary>
    [JsonPropertyName("until")] public DateTimeOffset Until { get; init; }
}
