using System;
using System.Net.Http;
using System.Text.Json;

namespace Neutral.Providers.Aws.Compute;

/// <summary>Reading Lambda's error answers (the Invoke API's and the control plane's alike).</summary>
internal static class LambdaErrors
{
    /// <summary>Lambda's error type: the <c>x-amzn-ErrorType</c> header (up to a colon), else the body's <c>__type</c> or <c>Type</c>.</summary>
    public static string Type(HttpResponseMessage response, string body)
    {
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            string value = string.Join(",", values);
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 ? value[..colon] : value;
        }

        return Field(body, "__type") ?? "HTTP " + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string Message(string body) => Field(body, "message") ?? Field(body, "Message") ?? Trim(body);

    private static string? Field(string body, string name)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string Trim(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
