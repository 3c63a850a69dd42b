using System;
using System.Threading.Tasks;
using System.Threading;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Neutral.Providers;
using Neutral.Providers.OpenWhisk;
using Neutral.Storage;
using Neutral.Wire;

[assembly: Neutral.NeutralProvider(typeof(OpenWhiskProvider))]

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// Registers what this package brings: the <c>minio</c> store (any S3-compatible server), read from the
/// <c>Neutral:Minio</c> section (<c>Endpoint</c>, <c>Bucket</c>, <c>AccessKey</c>, <c>SecretKey</c>, <c>Secure</c>,
/// <c>Region</c>). Executables that reference the package call <see cref="Register"/> before <c>Main</c> (the source
/// generator wires it); <c>services.AddNeutral(configuration).AddOpenWhisk()</c> is the DI way.
/// </summary>
/// <remarks>
/// Workers find the store by its <see cref="StoreLocation"/>: kind <c>minio</c>, and the endpoint and bucket as a URL
/// (<c>http://host:port/bucket</c>), never a credential. A worker reads the keys from the variables
/// <c>NEUTRAL__MINIO__ACCESSKEY</c> and <c>NEUTRAL__MINIO__SECRETKEY</c>, which the local pool passes to its processes
/// (and a cloud deployment binds); a worker in the client's own process uses the client's settings.
/// </remarks>
public static class OpenWhiskProvider
{
    /// <summary>The store kind, and its name in <c>Neutral:Storage</c>.</summary>
    public const string StoreKind = "minio";

    /// <summary>The store's configuration section.</summary>
    public const string MinioSection = "Minio";

    /// <summary>The compute's name in <c>Neutral:Compute</c>.</summary>
    public const string ComputeName = "openwhisk";

    /// <summary>The compute's configuration section.</summary>
    public const string OpenWhiskSection = "OpenWhisk";

    /// <summary>The variable a worker reads the access key from.</summary>
    public const string AccessKeyVariable = "NEUTRAL__MINIO__ACCESSKEY";

    /// <summary>The variable a worker reads the secret key from.</summary>
    public const string SecretKeyVariable = "NEUTRAL__MINIO__SECRETKEY";

    /// <summary>The variable a worker reads the region from (default <c>us-east-1</c>).</summary>
    public const string RegionVariable = "NEUTRAL__MINIO__REGION";

    /// <summary>Settings of stores this process opened as a client, for workers that run in it (by location).</summary>
    private static readonly ConcurrentDictionary<string, MinioSettings> s_clientSettings = new(StringComparer.Ordinal);

    private static readonly ProviderPackage s_package = new ProviderPackage("Neutral.Providers.OpenWhisk")
        .Section(MinioSection, "Endpoint", "Bucket", "AccessKey", "SecretKey", "Secure", "Region")
        .Storage(StoreKind, OpenStore, OpenForWorker)
        .Section(OpenWhiskSection, "ApiHost", "Namespace", "Action", "AuthKey", "AcceptSelfSignedCertificate", "Blocking",
            "ActionTimeoutSeconds", "ActionMemoryMb", "ActionConcurrency", "InvariantGlobalization", "ProvideApiKey")
        .Compute(ComputeName, OpenCompute, defaultStorage: StoreKind)
        // A process started with NEUTRAL_WORKER=openwhisk (the deployed action's exec) serves the action loop.
        .WorkerRuntime(Worker.ActionLoop.RuntimeName, Worker.ActionLoop.ServeProcessAsync)
        // NEUTRAL_WORKER=openwhisk-deploy: the published application deploys itself as the action, then exits.
        .SelfDeployment(Compute.SelfDeployment.RuntimeName, "action", Compute.SelfDeployment.DeployAsync);

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
        // Qualified: inside this class MinioSection and OpenWhiskSection are the public constants of the sections' names.
        var minio = global::Neutral.Providers.OpenWhisk.MinioSection.Read(context.Configuration);
        var (settings, bucket) = minio.Store();
        var location = new StoreLocation(StoreKind, LocationOf(settings, bucket), Cloud.InternalPrefix);
        s_clientSettings[location.Bucket] = settings;
        // The keys go to worker processes in their environment (the local pool passes them; a cloud deployment binds them).
        return PreparedStores.Connect(new MinioObjectStore(settings, bucket), location, WorkerEnvironment(settings.AccessKey, settings.SecretKey, settings.Region),
            (store, ct) => store.EnsureBucketAsync(ct), minio.Prefix + "Endpoint", settings.Endpoint, $"the store at {settings} could not be used for bucket '{bucket}'");
    }

    /// <summary>The variables a worker process opens the store with.</summary>
    internal static System.Collections.Generic.Dictionary<string, string> WorkerEnvironment(string accessKey, string secretKey, string region) =>
        new(StringComparer.Ordinal)
        {
            [AccessKeyVariable] = accessKey,
            [SecretKeyVariable] = secretKey,
            [RegionVariable] = region,
        };

    /// <summary><c>http://host:port/bucket</c>: where workers find the store, without credentials.</summary>
    internal static string LocationOf(MinioSettings settings, string bucket) => $"{(settings.Secure ? "https" : "http")}://{settings.Endpoint}/{bucket}";

    private static IObjectStore OpenForWorker(StoreLocation location)
    {
        if (!Uri.TryCreate(location.Bucket, UriKind.Absolute, out Uri? uri) || uri.AbsolutePath.Trim('/') is not { Length: > 0 } bucket)
        {
            throw new InvalidOperationException($"The minio store location '{location.Bucket}' is not http(s)://host:port/bucket.");
        }

        bool secure = uri.Scheme == Uri.UriSchemeHttps;
        string endpoint = uri.Authority;
        if (s_clientSettings.TryGetValue(location.Bucket, out MinioSettings? known))
        {
            return new MinioObjectStore(known, bucket);
        }

        string accessKey = Environment.GetEnvironmentVariable(AccessKeyVariable)
            ?? throw new InvalidOperationException($"The worker has no {AccessKeyVariable} to open the store at {endpoint}.");
        string secretKey = Environment.GetEnvironmentVariable(SecretKeyVariable)
            ?? throw new InvalidOperationException($"The worker has no {SecretKeyVariable} to open the store at {endpoint}.");
        string region = Environment.GetEnvironmentVariable(RegionVariable) ?? "us-east-1";
        return new MinioObjectStore(new MinioSettings(endpoint, accessKey, secretKey, secure, region), bucket);
    }

    private static IComputeBackend OpenCompute(ProviderContext context)
    {
        Compute.OpenWhiskSettings settings = global::Neutral.Providers.OpenWhisk.OpenWhiskSection.Read(context.Configuration).Settings;
        if (context.Store is not { } store || store.Location.Kind == "local")
        {
            throw new NeutralConfigurationException("Neutral:Storage", context.Store?.Location.Kind, "OpenWhisk actions cannot reach this machine's file system: use Storage=minio (or another store the cluster reaches).");
        }

        return new Compute.OpenWhiskComputeBackend(settings, store.Location, context.TimeProvider);
    }
}

/// <summary>Registers the OpenWhisk provider with a <see cref="NeutralBuilder"/>.</summary>
public static class OpenWhiskNeutralBuilderExtensions
{
    /// <summary>
    /// Adds the <c>openwhisk</c> compute and the <c>minio</c> store to the cloud <c>AddNeutral</c> registers:
    /// <c>services.AddNeutral(configuration).AddOpenWhisk()</c>.
    /// </summary>
    public static NeutralBuilder AddOpenWhisk(this NeutralBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        OpenWhiskProvider.AddTo(builder.Providers);
        return builder;
    }
}
