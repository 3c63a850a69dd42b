using System;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Neutral.Providers;

/// <summary>
/// A deployment's dry run (<c>neutral deploy --dry-run</c>, or <c>NEUTRAL_DEPLOY_DRY_RUN=1</c> beside
/// <c>NEUTRAL_WORKER={provider}-deploy</c>): the self-deployment builds the package and every request body as it would,
/// and lists the requests instead of sending them. Nothing is sent, not even a read, so no credentials are needed;
/// where what is sent depends on what exists (a function to create or to update), both branches are listed. Bodies are
/// shown as JSON with the package replaced by its size and digest, and secrets (keys, passwords, connection strings,
/// signatures) hidden.
/// </summary>
public sealed class DeploymentPlan
{
    /// <summary>The variable that asks a self-deployment for a dry run (<c>1</c> or <c>true</c>).</summary>
    public const string Variable = "NEUTRAL_DEPLOY_DRY_RUN";

    private static readonly string[] SecretWords = ["SECRET", "PASSWORD", "KEY", "TOKEN", "CONNECTIONSTRING", "AZUREWEBJOBSSTORAGE", "CREDENTIAL"];

    private readonly StringBuilder _text = new();

    /// <summary>Whether this process was asked for a dry run.</summary>
    public static bool Requested => Environment.GetEnvironmentVariable(Variable) is "1" or "true" or "True";

    /// <summary>Starts the plan with a line saying what would be deployed.</summary>
    public DeploymentPlan(string summary)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        _text.Append("Dry run, nothing sent: ").Append(summary).Append('\n');
    }

    /// <summary>A heading for the requests sent only in one case ("If the function does not exist yet:").</summary>
    public DeploymentPlan When(string condition)
    {
        _text.Append('\n').Append(condition).Append('\n');
        return this;
    }

    /// <summary>One request: method, address, what it is for, and its body (JSON, or a description for binary bodies).</summary>
    public DeploymentPlan Request(string method, string address, string purpose, string? body = null)
    {
        _text.Append("  ").Append(method).Append(' ').Append(address).Append("  # ").Append(purpose).Append('\n');
        if (body is not null)
        {
            foreach (string line in Show(body).Split('\n'))
            {
                _text.Append("    ").Append(line).Append('\n');
            }
        }

        return this;
    }

    /// <summary>The plan's text.</summary>
    public override string ToString() => _text.ToString().TrimEnd('\n');

    /// <summary>A body as shown: JSON indented with the package elided and secrets hidden; other text as it is.</summary>
    public static string Show(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return body;
        }

        Redact(node, name: null);
        return node?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? "null";
    }

    /// <summary>Whether a setting or variable named <paramref name="name"/> holds a secret.</summary>
    public static bool IsSecretName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        // AZURE_STORAGE_CONNECTION_STRING and ConnectionString alike: underscores do not count.
        string upper = name.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();
        return SecretWords.Any(upper.Contains)
            && !upper.EndsWith("KEYID", StringComparison.Ordinal) && upper != "NEUTRALTABLES";
    }

    /// <summary>Whether a value holds a secret whatever its name: an account key, a shared access signature.</summary>
    public static bool IsSecretValue(string value) =>
        value.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase) || value.Contains("sig=", StringComparison.OrdinalIgnoreCase)
        || value.Contains("SharedAccessSignature=", StringComparison.OrdinalIgnoreCase);

    private static void Redact(JsonNode? node, string? name)
    {
        switch (node)
        {
            case JsonObject obj:
                // Azure's app settings ({ "name": ..., "value": ... }) and OpenWhisk's parameters ({ "key": ..., "value": ... }).
                if ((obj["name"] ?? obj["key"]) is JsonValue n && n.TryGetValue(out string? settingName) && obj["value"] is JsonValue v && v.TryGetValue(out string? settingValue)
                    && (IsSecretName(settingName) || IsSecretValue(settingValue)))
                {
                    obj["value"] = "(hidden)";
                }

                foreach (var (key, child) in obj.ToArray())
                {
                    if (child is JsonValue value && value.TryGetValue(out string? text))
                    {
                        if (key is "ZipFile" or "code" && text.Length > 256)
                        {
                            obj[key] = Elided(text);
                        }
                        else if (key is not ("key" or "name") && (IsSecretName(key) || IsSecretValue(text)))
                        {
                            obj[key] = "(hidden)";
                        }
                    }
                    else
                    {
                        Redact(child, key);
                    }
                }

                break;
            case JsonArray array:
                foreach (JsonNode? child in array)
                {
                    Redact(child, name);
                }

                break;
        }
    }

    private static string Elided(string base64)
    {
        try
        {
            byte[] bytes = Convert.FromBase64String(base64);
            return string.Create(CultureInfo.InvariantCulture,
                $"(the package: {bytes.Length / 1048576.0:0.0} MiB zip, sha256 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16]}..., base64)");
        }
        catch (FormatException)
        {
            return $"({base64.Length} characters)";
        }
    }
}
