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
        .SelfDeployment(Compute.SelfDeployment.RuntimeName, "function", Compute.SelfDeployment.DeployAsync, e => e is AmazonServiceException);

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
        AwsSection aws = AwsSection.Read(context.Configuration);
        string bucket = aws.RequireBucket("the bucket job data goes to (created if missing)");
        // Resolved now: no credentials anywhere fails at Connect with one message, not at the first request (unless a
        // required key is missing already: that error comes first, and the chain is not searched for nothing).
        AWSCredentials? credentials = ProviderSettings.AnyMissing ? aws.Credentials : Resolve(aws.Credentials);
        var settings = new S3Settings(aws.Region, bucket, aws.ServiceUrl);
        var location = new StoreLocation(StoreKind, LocationOf(settings), Cloud.InternalPrefix);
        if (!ProviderSettings.AnyMissing)
        {
            s_clientStores[location.Bucket] = (settings, credentials);
        }
        var workerEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (credentials is BasicAWSCredentials basic)
        {
            ImmutableCredentials keys = basic.GetCredentials();
            workerEnvironment["AWS_ACCESS_KEY_ID"] = keys.AccessKey;
            workerEnvironment["AWS_SECRET_ACCESS_KEY"] = keys.SecretKey;
        }

        return PreparedStores.Connect(new S3ObjectStore(settings, credentials), location, workerEnvironment, (store, ct) => store.EnsureBucketAsync(ct),
            aws.Prefix + "Bucket", bucket, $"the bucket could not be used at {settings}");
    }

    private static IComputeBackend OpenCompute(ProviderContext context)
    {
        AwsSection aws = AwsSection.Read(context.Configuration);
        if (context.Store is not { } store || store.Location.Kind == "local")
        {
            throw new NeutralConfigurationException("Neutral:Storage", context.Store?.Location.Kind, "Lambda functions cannot reach this machine's file system: use Storage=s3.");
        }

        return new Compute.LambdaComputeBackend(new Compute.LambdaSettings(aws.Region, aws.Function, aws.LambdaServiceUrl, aws.Synchronous, aws.MaxConcurrency), store.Location, aws.Credentials,
            store.Store, context.TimeProvider) { Prices = aws.Prices() };
    }

    /// <summary>The credentials to sign with: the given ones, else the SDK's default chain.</summary>
    /// <exception cref="NeutralConfigurationException">The chain found none: one message naming where credentials can be set.</exception>
    internal static AWSCredentials Resolve(AWSCredentials? credentials)
    {
        if (credentials is not null)
        {
            return credentials;
        }

        try
        {
            return DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        catch (AmazonClientException e)
        {
            // The SDK lists each provider it tried, with its own exception: say instead where credentials go.
            throw new NeutralConfigurationException(NeutralConfiguration.Section + ":" + Section + ":AccessKeyId", null, NoCredentials, e);
        }
    }

    /// <summary>What the error says when neither the settings nor the SDK's default chain give credentials.</summary>
    internal const string NoCredentials =
        "no AWS credentials were found. Set Neutral:Aws:AccessKeyId and Neutral:Aws:SecretAccessKey (the secret in the variable NEUTRAL__AWS__SECRETACCESSKEY, not a file), " +
        "or give the AWS SDK's default chain some: the variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (~/.aws/credentials, AWS_PROFILE, `aws configure sso`), " +
        "or a role (web identity, ECS task role, EC2 instance profile).";

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
