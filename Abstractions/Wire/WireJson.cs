using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Neutral.Wire;

/// <summary>Serializes the wire contracts with source-generated metadata (no reflection, safe under NativeAOT).</summary>
public static class WireJson
{
    /// <summary>Serializes an envelope to UTF-8 JSON.</summary>
    public static byte[] Serialize(InvocationEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, WireJsonContext.Default.InvocationEnvelope);

    /// <summary>Serializes a status record to UTF-8 JSON.</summary>
    public static byte[] Serialize(StatusRecord status) => JsonSerializer.SerializeToUtf8Bytes(status, WireJsonContext.Default.StatusRecord);

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
internal sealed partial class WireJsonContext : JsonSerializerContext;
