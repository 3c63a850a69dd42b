namespace Neutral.Workers;

/// <summary>What one attempt of one call came to, as the worker saw it. The status object stays the source of truth.</summary>
/// <param name="JobId">The job.</param>
/// <param name="CallIndex">The call.</param>
/// <param name="Attempt">The attempt.</param>
/// <param name="Succeeded">Whether the method returned.</param>
/// <param name="StatusCreated">Whether this attempt's status won the create-only write (false: another attempt finished first).</param>
/// <param name="ErrorKind">For failures, the <see cref="Wire.RemoteError.Kind"/>.</param>
/// <param name="Status">
/// When <paramref name="StatusCreated"/>: the exact bytes of the status object this attempt created. Create-only
/// storage makes them the stored object's bytes, so a transport may hand them to the client in place of a read.
/// </param>
public readonly record struct CallOutcome(string JobId, int CallIndex, int Attempt, bool Succeeded, bool StatusCreated, string? ErrorKind, byte[]? Status = null)
{
    /// <summary>
    /// The outcome as a small JSON object, what a cloud worker answers its platform with (an OpenWhisk activation's
    /// result, a Lambda response): <c>{"job", "call", "attempt", "succeeded", "statusCreated", "errorKind"}</c>. The
    /// client never reads it; it is for the platform's records and logs.
    /// </summary>
    public byte[] ToJson()
    {
        using var buffer = new System.IO.MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("job", JobId);
            json.WriteNumber("call", CallIndex);
            json.WriteNumber("attempt", Attempt);
            json.WriteBoolean("succeeded", Succeeded);
            json.WriteBoolean("statusCreated", StatusCreated);
            if (ErrorKind is { } kind)
            {
                json.WriteString("errorKind", kind);
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
