using System;
using Amazon.Runtime;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.Aws;

/// <summary>
/// The <c>Neutral:Aws</c> section read and checked once, for the store, the compute and the self-deployment alike: a
/// wrong value fails naming its key, whichever of them reads it first. Deployment-only keys (<c>Role</c>,
/// <c>FunctionMemoryMb</c>, ...) are read by the deployment from <see cref="Section"/>.
/// </summary>
internal sealed class AwsSection
{
    private AwsSection(IConfiguration section, string prefix)
    {
        Section = section;
        Prefix = prefix;
        Region = ProviderSettings.Required(section, prefix, "Region", "the AWS region of the bucket and the function, e.g. us-east-1");
        Bucket = section["Bucket"] is { Length: > 0 } bucket ? bucket : null;
        ServiceUrl = Url("ServiceUrl", trailingSlash: false, "an S3-compatible server, e.g. http://127.0.0.1:9000");
        LambdaServiceUrl = Url("LambdaServiceUrl", trailingSlash: true, "a Lambda endpoint");
        Credentials = CredentialsFrom(section, prefix);
        Function = section["Function"] is { Length: > 0 } function ? function : "neutral";
        Synchronous = section["InvocationType"] switch
        {
            null or "" or "Event" => false,
            "RequestResponse" => true,
            string other => throw new NeutralConfigurationException(prefix + "InvocationType", other, "it must be Event (queued; the default) or RequestResponse (the invoke waits for the call)."),
        };
        MaxConcurrency = ProviderSettings.WholeNumber(section, prefix, "MaxConcurrency", 256, 1, 10_000);
    }

    /// <summary>Reads <c>Aws</c> under <paramref name="neutral"/> (the <c>Neutral</c> section).</summary>
    public static AwsSection Read(IConfiguration neutral) => new(neutral.GetSection(AwsProvider.Section), NeutralConfiguration.Section + ":" + AwsProvider.Section + ":");

    /// <summary>The raw section, for keys only one reader needs.</summary>
    public IConfiguration Section { get; }

    /// <summary><c>Neutral:Aws:</c>, for error keys.</summary>
    public string Prefix { get; }

    public string Region { get; }

    /// <summary>The bucket, when set; <see cref="RequireBucket"/> where one is needed.</summary>
    public string? Bucket { get; }

    public Uri? ServiceUrl { get; }

    public Uri? LambdaServiceUrl { get; }

    /// <summary>The configured keys, or null for the SDK's default chain.</summary>
    public AWSCredentials? Credentials { get; }

    public string Function { get; }

    public bool Synchronous { get; }

    public int MaxConcurrency { get; }

    /// <summary>The bucket; throws naming <c>Neutral:Aws:Bucket</c> and <paramref name="what"/> it is for.</summary>
    public string RequireBucket(string what) => Bucket ?? ProviderSettings.Missing(Prefix + "Bucket", $"it is required: {what}.", "missing");

    /// <summary>Keys from the section, or null for the SDK's default chain. Both or neither.</summary>
    internal static AWSCredentials? CredentialsFrom(IConfiguration section, string prefix)
    {
        string? id = section["AccessKeyId"] is { Length: > 0 } i ? i : null;
        string? secret = section["SecretAccessKey"] is { Length: > 0 } s ? s : null;
        return (id, secret) switch
        {
            (null, null) => null,
            ({ } key, { } value) => new BasicAWSCredentials(key, value),
            (null, _) => throw new NeutralConfigurationException(prefix + "AccessKeyId", null, "SecretAccessKey is set without it: set both, or neither to use the SDK's default credentials (environment, profile, role)."),
            (_, null) => throw new NeutralConfigurationException(prefix + "SecretAccessKey", null, "AccessKeyId is set without it: set both (the secret in NEUTRAL__AWS__SECRETACCESSKEY, not a file), or neither."),
        };
    }

    /// <summary>The prices the cost estimate uses: the <c>PricePer...</c> keys, else Lambda's published ones.</summary>
    public Compute.LambdaPrices Prices()
    {
        var defaults = new Compute.LambdaPrices();
        return new Compute.LambdaPrices(
            ProviderSettings.Price(Section, Prefix, "PricePerGbSecond", defaults.PerGbSecond),
            ProviderSettings.Price(Section, Prefix, "PricePerMillionRequests", defaults.PerMillionRequests),
            ProviderSettings.Price(Section, Prefix, "PricePerThousandWrites", defaults.PerThousandWrites),
            ProviderSettings.Price(Section, Prefix, "PricePerThousandReads", defaults.PerThousandReads));
    }

    private Uri? Url(string key, bool trailingSlash, string what) =>
        ProviderSettings.HttpUrl(Section, Prefix, key, $"it must be an http or https address of {what}.", trailingSlash);
}
