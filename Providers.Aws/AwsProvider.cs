using System;
using System.Threading.Tasks;
using System.Threading;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Microsoft.Extensions.Configuration;
using Neutral.Providers;
using Neutral.Providers.Aws;
using Neutral.Storage;
using Neutral.Wire;

[assembly: Neutral.NeutralProvider(typeof(AwsProvider))]

namespace Neutral.Providers.Aws;

/// <summary>
/// Registers what this package brings: the <c>s3</c> store, read from the <c>Neutral:Aws</c> section (<c>Region</c>,
/// <c>Bucket</c>, <c>ServiceUrl</c> for an S3-compatible server, and optionally <c>AccessKeyId</c> /
/// <c>SecretAccessKey</c>; without them the SDK's default credential chain: environment, profile, instance or task
/// role). Executables that reference the package call <see cref="Register"/> before <c>Main</c> (the source generator
/// wires it); <c>services.AddNeutral(configuration).AddAws()</c> is the DI way.
/// </summary>
/// <remarks>
/// Workers find the store by its <see cref="StoreLocation"/>: kind <c>s3</c>, and where the bucket is as a URL
/// (<c>s3://bucket?region=us-east-1</c>, or <c>http://host:port/bucket?region=...</c> for an S3-compatible server),
/// never a credential. A worker signs with its platform identity (a Lambda function's role, through the default chain);
/// local workers of a client configured with keys get them as <c>AWS_ACCESS_KEY_ID</c> / <c>AWS_SECRET_ACCESS_KEY</c>
/// in their environment.
/// </remarks>
public static class AwsProvider
{
    /// <summary>The store kind, and its name in <c>Neutral:Storage</c>.</summary>
    public const string StoreKind = "s3";

    /// <summary>The compute's name in <c>Neutral:Compute</c>.</summary>
    public const string ComputeName = "aws";

    /// <summary>The configuration section.</summary>
    public const string Section = "Aws";

    /// <summary>Settings and credentials of stores this process opened as a client, for workers that run in it (by location).</summary>
    private static readonly ConcurrentDictionary<string, (S3Settings Settings, AWSCredentials? Credentials)> s_clientStores = new(StringComparer.Ordinal);

    private static readonly ProviderPackage s_package = new ProviderPackage("Neutral.Providers.Aws")
        .Section(Section, "Region", "Bucket", "ServiceUrl", "AccessKeyId", "SecretAccessKey",
            "Function", "LambdaServiceUrl", "InvocationType", "MaxConcurrency", "Role", "FunctionMemoryMb", "FunctionTimeoutSeconds", "InvariantGlobalization",
            "PricePerGbSecond", "PricePerMillionRequests", "PricePerThousandWrites", "PricePerThousandReads")
        .Storage(StoreKind, OpenStore, OpenForWorker)
        .Compute(ComputeName, OpenCompute, defaultStorage: StoreKind)
        // A process started with NEUTRAL_WORKER=aws (the deployed function's bootstrap) serves the Runtime API.
        .WorkerRuntime(Worker.LambdaRuntime.RuntimeName, Worker.LambdaRuntime.ServeProcessAsync)
        // NEUTRAL_WORKER=aws-deploy: the published application deploys itself as the function.
        .WorkerRuntime(Compute.SelfDeployment.RuntimeName, Compute.SelfDeployment.RunAsync);

    /// <summary>Registers into <see cref="ProviderRegistry.Default"/> (idempotent).</summary>
    public static void Register() => AddTo(ProviderRegistry.Default);

    /// <summary>Registers the package's stores, compute and sections into <paramref name="registry"/>.</summary>
    public static ProviderRegistry AddTo(ProviderRegistry registry) => s_package.AddTo(registry);

    /// <summary>Registers the worker side (the store kind, the worker runtimes): runs when a worker loads this assembly.</summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "A worker loads this assembly to open the store kind an envelope names; registering then is the point.")]
    internal static void RegisterWorkerSide() => s_package.RegisterWorkerSide();

    private static StoreConnection OpenStore(ProviderContext context)
    {
        var (section, prefix) = context.Section(Section);
        string region = ProviderSettings.Required(section, prefix, "Region", "the AWS region, e.g. us-east-1");
        string bucket = ProviderSettings.Required(section, prefix, "Bucket", "the bucket job data goes to (created if missing)");
        Uri? serviceUrl = null;
        if (section["ServiceUrl"] is { Length: > 0 } url)
        {
            serviceUrl = Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https"
                ? parsed
                : throw new NeutralConfigurationException(prefix + "ServiceUrl", url, "it must be an http or https address of an S3-compatible server, e.g. http://127.0.0.1:9000.");
        }

        AWSCredentials? credentials = CredentialsFrom(section, prefix);
        var settings = new S3Settings(region, bucket, serviceUrl);
        var store = new S3ObjectStore(settings, credentials);
        async Task PrepareAsync(CancellationToken cancellationToken)
        {
            try
            {
                await store.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not NeutralConfigurationException and not OperationCanceledException)
            {
                throw new NeutralConfigurationException(prefix + "Bucket", bucket, $"the bucket could not be used at {settings}: {e.GetType().Name}: {e.Message}", e);
            }
        }

        var location = new StoreLocation(StoreKind, LocationOf(settings), Cloud.InternalPrefix);
        s_clientStores[location.Bucket] = (settings, credentials);
        var workerEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (credentials is BasicAWSCredentials basic)
        {
            ImmutableCredentials keys = basic.GetCredentials();
            workerEnvironment["AWS_ACCESS_KEY_ID"] = keys.AccessKey;
            workerEnvironment["AWS_SECRET_ACCESS_KEY"] = keys.SecretKey;
        }

        return new StoreConnection(store, location, () =>
        {
            store.Dispose();
            return default;
        }, workerEnvironment, PrepareAsync);
    }

    private static IComputeBackend OpenCompute(ProviderContext context)
    {
        var (section, prefix) = context.Section(Section);
        string region = ProviderSettings.Required(section, prefix, "Region", "the function's AWS region, e.g. us-east-1");
        string function = section["Function"] is { Length: > 0 } f ? f : "neutral";
        Uri? serviceUrl = null;
        if (section["LambdaServiceUrl"] is { Length: > 0 } url)
        {
            serviceUrl = Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https"
                ? parsed
                : throw new NeutralConfigurationException(prefix + "LambdaServiceUrl", url, "it must be an http or https address of a Lambda endpoint.");
        }

        bool synchronous = section["InvocationType"] switch
        {
            null or "" or "Event" => false,
            "RequestResponse" => true,
            string other => throw new NeutralConfigurationException(prefix + "InvocationType", other, "it must be Event (queued; the default) or RequestResponse (the invoke waits for the call)."),
        };
        int concurrency = section["MaxConcurrency"] is not { } text ? 256
            : int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 10_000 ? n
            : throw new NeutralConfigurationException(prefix + "MaxConcurrency", text, "it must be a whole number from 1 to 10000.");
        if (context.Store is not { } store || store.Location.Kind == "local")
        {
            throw new NeutralConfigurationException("Neutral:Storage", context.Store?.Location.Kind, "Lambda functions cannot reach this machine's file system: use Storage=s3.");
        }

        var defaults = new Compute.LambdaPrices();
        var prices = new Compute.LambdaPrices(
            Price(section, prefix, "PricePerGbSecond", defaults.PerGbSecond),
            Price(section, prefix, "PricePerMillionRequests", defaults.PerMillionRequests),
            Price(section, prefix, "PricePerThousandWrites", defaults.PerThousandWrites),
            Price(section, prefix, "PricePerThousandReads", defaults.PerThousandReads));
        return new Compute.LambdaComputeBackend(new Compute.LambdaSettings(region, function, serviceUrl, synchronous, concurrency), store.Location, CredentialsFrom(section, prefix),
            store.Store, context.TimeProvider) { Prices = prices };
    }

    private static decimal Price(IConfiguration section, string prefix, string key, decimal fallback) =>
        section[key] is not { } text ? fallback
        : decimal.TryParse(text, System.Globalization.NumberStyles.AllowDecimalPoint | System.Globalization.NumberStyles.AllowExponent, System.Globalization.CultureInfo.InvariantCulture, out decimal value) && value >= 0 ? value
        : throw new NeutralConfigurationException(prefix + key, text, "it must be a price in US dollars, a number of 0 or more with '.' as the decimal point.");

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

    /// <summary>The credentials to sign with: the given ones, else the SDK's default chain.</summary>
    internal static AWSCredentials Resolve(AWSCredentials? credentials) => credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials();

    /// <summary><c>s3://bucket?region=r</c> or <c>http(s)://host:port/bucket?region=r</c>: where workers find the store, without credentials.</summary>
    internal static string LocationOf(S3Settings settings) =>
        settings.ServiceUrl is { } url
            ? $"{url.GetLeftPart(UriPartial.Authority)}/{settings.Bucket}?region={Uri.EscapeDataString(settings.Region)}"
            : $"s3://{settings.Bucket}?region={Uri.EscapeDataString(settings.Region)}";

    /// <summary>Reads <see cref="LocationOf"/> back.</summary>
    internal static S3Settings SettingsOf(string location)
    {
        if (!Uri.TryCreate(location, UriKind.Absolute, out Uri? uri))
        {
            throw new InvalidOperationException($"The s3 store location '{location}' is not s3://bucket?region=... or http(s)://host:port/bucket?region=...");
        }

        string region = "us-east-1";
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.StartsWith("region=", StringComparison.Ordinal))
            {
                region = Uri.UnescapeDataString(pair["region=".Length..]);
            }
        }

        return uri.Scheme == "s3"
            ? new S3Settings(region, uri.Host)
            : new S3Settings(region, uri.AbsolutePath.Trim('/'), new Uri(uri.GetLeftPart(UriPartial.Authority)));
    }

    private static IObjectStore OpenForWorker(StoreLocation location)
    {
        if (s_clientStores.TryGetValue(location.Bucket, out var known))
        {
            return new S3ObjectStore(known.Settings, known.Credentials);
        }

        // A deployed worker: its platform identity, through the default chain (a Lambda function's role).
        return new S3ObjectStore(SettingsOf(location.Bucket));
    }

}

/// <summary>Registers the AWS provider with a <see cref="NeutralBuilder"/>.</summary>
public static class AwsNeutralBuilderExtensions
{
    /// <summary>
    /// Adds the <c>aws</c> compute and the <c>s3</c> store to the cloud <c>AddNeutral</c> registers:
    /// <c>services.AddNeutral(configuration).AddAws()</c>.
    /// </summary>
    public static NeutralBuilder AddAws(this NeutralBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AwsProvider.AddTo(builder.Providers);
        return builder;
    }
}
