using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// The <c>Neutral:Minio</c> section, read in one place for the store (<see cref="Store"/>: every key checked) and for
/// the self-deployment, which needs only the keys it binds to the action (<see cref="WorkerEnvironment"/>): a wrong or
/// missing value fails naming its key.
/// </summary>
internal sealed class MinioSection
{
    private readonly IConfiguration _section;

    private MinioSection(IConfiguration section, string prefix)
    {
        _section = section;
        Prefix = prefix;
    }

    /// <summary>Reads <c>Minio</c> under <paramref name="neutral"/> (the <c>Neutral</c> section).</summary>
    public static MinioSection Read(IConfiguration neutral) =>
        new(neutral.GetSection(OpenWhiskProvider.MinioSection), NeutralConfiguration.Section + ":" + OpenWhiskProvider.MinioSection + ":");

    /// <summary><c>Neutral:Minio:</c>, for error keys.</summary>
    public string Prefix { get; }

    private string? AccessKey => _section["AccessKey"] is { Length: > 0 } key ? key : null;

    private string? SecretKey => _section["SecretKey"] is { Length: > 0 } secret ? secret : null;

    private string Region => _section["Region"] is { Length: > 0 } region ? region : "us-east-1";

    /// <summary>The store's server and keys, and its bucket.</summary>
    public (MinioSettings Settings, string Bucket) Store()
    {
        string endpoint = ProviderSettings.Required(_section, Prefix, "Endpoint", "the server's host and port, e.g. minio.example.com:9000 (no scheme)");
        if (endpoint.Contains("://", StringComparison.Ordinal))
        {
            throw new NeutralConfigurationException(Prefix + "Endpoint", endpoint, "give the host and port only (e.g. 127.0.0.1:9000); say https with Neutral:Minio:Secure=true.");
        }

        string bucket = ProviderSettings.Required(_section, Prefix, "Bucket", "the bucket job data goes to (created if missing)");
        string accessKey = ProviderSettings.Required(_section, Prefix, "AccessKey", "the access key");
        string secretKey = SecretKey
            ?? ProviderSettings.Missing(Prefix + "SecretKey", "the secret key is required (set it with the variable NEUTRAL__MINIO__SECRETKEY rather than in a file).", string.Empty);
        bool secure = ProviderSettings.Bool(_section, Prefix, "Secure");
        return (new MinioSettings(endpoint, accessKey, secretKey, secure, Region), bucket);
    }

    /// <summary>The variables a deployed worker opens the store with: the keys and the region.</summary>
    public Dictionary<string, string> WorkerEnvironment() =>
        (AccessKey, SecretKey) is ({ } accessKey, { } secretKey)
            ? OpenWhiskProvider.WorkerEnvironment(accessKey, secretKey, Region)
            : throw new NeutralConfigurationException(Prefix + "AccessKey", null,
                "the action needs the store's keys: set Neutral:Minio:AccessKey and Neutral:Minio:SecretKey (better: NEUTRAL__MINIO__ACCESSKEY and NEUTRAL__MINIO__SECRETKEY) when deploying.");
}
