using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>Serializes the wire contracts with source-generated metadata (no reflection, safe under NativeAOT).</summary>
public static class WireJson
{
    /// <summary>Serializes an envelope to UTF-8 JSON.</summary>
    public static byte[] Serialize(InvocationEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, WireJsonContext.Default.InvocationEnvelope);

    /// <summary>Serializes a status record to UTF-8 JSON (the same document the serializer would write).</summary>
    /// <remarks>
    /// Written with <see cref="Utf8JsonWriter"/> directly: every worker writes one per call, and a cold worker would
    /// otherwise spend tens of milliseconds warming up the serializer for its first status.
    /// </remarks>
    public static byte[] Serialize(StatusRecord status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512 + (status.InlineResult?.Length ?? 0) * 4 / 3 + (status.Log?.Length ?? 0) * 2);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", status.Version);
            json.WriteString("job", status.JobId);
            json.WriteNumber("call", status.CallIndex);
            json.WriteNumber("attempt", status.Attempt);
            json.WriteBoolean("ok", status.Succeeded);
            if (status.InlineResult is { } result)
            {
                json.WriteBase64String("result", result);
            }

            if (status.OutputKey is { } output)
            {
                json.WriteString("output", output);
            }

            if (status.Error is { } error)
            {
                json.WriteStartObject("error");
                json.WriteString("kind", error.Kind);
                json.WriteString("type", error.Type);
                json.WriteString("message", error.Message);
                if (error.StackTrace is { } stack)
                {
                    json.WriteString("stack", stack);
                }

                json.WriteEndObject();
            }

            json.WriteString("start", status.WorkerStart);
            json.WriteString("end", status.WorkerEnd);
            json.WriteBoolean("cold", status.ColdStart);
            if (status.Host is { } host)
            {
                json.WriteString("host", host);
            }

            json.WriteNumber("bytesIn", status.BytesIn);
            json.WriteNumber("bytesOut", status.BytesOut);
            if (status.Log is { } log)
            {
                json.WriteString("log", log);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes a job manifest to UTF-8 JSON.</summary>
    public static byte[] Serialize(JobManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, WireJsonContext.Default.JobManifest);

    /// <summary>Reads an envelope.</summary>
    /// <exception cref="FormatException">The bytes are not a valid envelope.</exception>
    public static InvocationEnvelope DeserializeEnvelope(ReadOnlySpan<byte> json) => Read(json, WireJsonContext.Default.InvocationEnvelope, "invocation envelope");

    /// <summary>Reads a status record.</summary>
    /// <exception cref="FormatException">The bytes are not a valid status record.</exception>
    public static StatusRecord DeserializeStatus(ReadOnlySpan<byte> json) => Read(json, WireJsonContext.Default.StatusRecord, "status record");

    /// <summary>Reads a job manifest.</summary>
    /// <exception cref="FormatException">The bytes are not a valid job manifest.</exception>
    public static JobManifest DeserializeManifest(ReadOnlySpan<byte> json) => Read(json, WireJsonContext.Default.JobManifest, "job manifest");

    /// <summary>Serializes a lease record.</summary>
    public static byte[] Serialize(LeaseRecord lease) => JsonSerializer.SerializeToUtf8Bytes(lease, WireJsonContext.Default.LeaseRecord);

    /// <summary>Parses a lease record.</summary>
    /// <exception cref="FormatException">The JSON is not a lease record.</exception>
    public static LeaseRecord DeserializeLease(ReadOnlySpan<byte> json) => Read(json, WireJsonContext.Default.LeaseRecord, "lease record");

    /// <summary>Serializes a kept failed call.</summary>
    public static byte[] Serialize(KeptCall kept) => JsonSerializer.SerializeToUtf8Bytes(kept, WireJsonContext.Default.KeptCall);

    /// <summary>Deserializes a kept failed call.</summary>
    /// <exception cref="FormatException">The JSON is not a valid kept call.</exception>
    public static KeptCall DeserializeKept(ReadOnlySpan<byte> json) => Read(json, WireJsonContext.Default.KeptCall, "kept call");

    private static T Read<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, info) ?? throw new FormatException($"The {what} is JSON null.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The {what} is not valid: {e.Message}", e);
        }
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(InvocationEnvelope))]
[JsonSerializable(typeof(StatusRecord))]
[JsonSerializable(typeof(JobManifest))]
[JsonSerializable(typeof(KeptCall))]
[JsonSerializable(typeof(LeaseRecord))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
