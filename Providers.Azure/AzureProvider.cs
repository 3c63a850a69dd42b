using System;
using System.Threading.Tasks;
using System.Threading;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Azure.Storage.Blobs;
using Neutral.Providers;
using Neutral.Providers.Azure;
using Neutral.Storage;
using Neutral.Wire;

[assembly: Neutral.NeutralProvider(typeof(AzureProvider))]

namespace Neutral.Providers.Azure;

/// <summary>
/// Registers what this package brings: the <c>azureblob</c> store, read from the <c>Neutral:Azure</c> section
/// (<c>ConnectionString</c>, or <c>AccountUrl</c> with an Entra ID credential through <c>DefaultAzureCredential</c>;
/// <c>Container</c>). Executables that reference the package call <see cref="Register"/> before <c>Main</c> (the source
/// generator wires it); <c>services.AddNeutral(configuration).AddAzure()</c> is the DI way.
/// </summary>
/// <remarks>
/// Workers find the store by its <see cref="StoreLocation"/>: kind <c>azureblob</c> and the container's address
/// (<c>https://{account}.blob.core.windows.net/{container}</c>), never a secret. A worker uses the connection string in
/// <see cref="ConnectionStringVariable"/> (or the Functions host's <c>AzureWebJobsStorage</c>) when it names the same
/// Blob service, else its platform identity (a Function App's managed identity). Local workers of a client configured
/// with a connection string get it in <see cref="ConnectionStringVariable"/>.
/// </remarks>
public static class AzureProvider
{
    /// <summary>The store kind, and its name in <c>Neutral:Storage</c>.</summary>
    public const string StoreKind = "azureblob";

    /// <summary>The compute's name in <c>Neutral:Compute</c>.</summary>
    public const string ComputeName = "azure";

    /// <summary>The configuration section.</summary>
    public const string Section = "Azure";

    /// <summary>The variable a worker reads a storage connection string from (Azure's tools use the same name).</summary>
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>The Functions host's own storage connection, also tried by workers.</summary>
    public const string HostStorageVariable = "AzureWebJobsStorage";

    /// <summary>Settings of stores this process opened as a client, for workers that run in it (by location).</summary>
    private static readonly ConcurrentDictionary<string, BlobSettings> s_clientStores = new(StringComparer.Ordinal);

    private static readonly ProviderPackage s_package = new ProviderPackage("Neutral.Providers.Azure")
        .Section(Section, "ConnectionString", "AccountUrl", "Container", "App", "Queue", "QueueAccountUrl", "MaxConcurrency", "InvocationType", "FunctionUrl", "FunctionKey",
            "BilledMemoryMb", "PricePerGbSecond", "PricePerMillionExecutions", "PricePerTenThousandBlobWrites", "PricePerTenThousandBlobReads", "PricePerTenThousandQueueOperations",
            // Deployment (NEUTRAL_WORKER=azure-deploy).
            "SubscriptionId", "ResourceGroup", "Location", "Plan", "ManagementUrl", "ManagementToken", "FunctionTimeoutSeconds", "BatchSize", "NewBatchThreshold", "InvariantGlobalization")
        .Storage(StoreKind, OpenStore, OpenForWorker)
        .Compute(ComputeName, OpenCompute, defaultStorage: StoreKind)
        // A process started with NEUTRAL_WORKER=azure (the Function App's custom handler) serves the Functions host.
        .WorkerRuntime(Worker.FunctionsHandler.RuntimeName, Worker.FunctionsHandler.ServeProcessAsync)
        // NEUTRAL_WORKER=azure-deploy: the published application deploys itself as the Function App.
        .SelfDeployment(Compute.SelfDeployment.RuntimeName, "Function App", (configuration, ct) => Compute.SelfDeployment.DeployAsync(configuration, null, ct),
            e => e is global::Azure.RequestFailedException or global::Azure.Identity.AuthenticationFailedException);

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
        AzureSection azure = AzureSection.Read(context.Configuration);
        BlobSettings settings = azure.Blob;
        var store = new BlobObjectStore(settings);
        var location = new StoreLocation(StoreKind, store.ContainerUri.ToString().TrimEnd('/'), Cloud.InternalPrefix);
        s_clientStores[location.Bucket] = settings;
        var workerEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (settings.ConnectionString is { } connection)
        {
            workerEnvironment[ConnectionStringVariable] = connection;
        }

        return PreparedStores.Connect(store, location, workerEnvironment, (s, ct) => s.EnsureContainerAsync(ct),
            azure.Prefix + "Container", settings.Container, $"the container could not be used at {settings}");
    }

    private static IComputeBackend OpenCompute(ProviderContext context)
    {
        AzureSection azure = AzureSection.Read(context.Configuration);
        string app = azure.RequireApp("the Function App's name");
        if (context.Store is not { } store || store.Location.Kind != StoreKind)
        {
            throw new NeutralConfigurationException("Neutral:Storage", context.Store?.Location.Kind,
                "Azure Functions workers read and write the job through Blob storage: use Storage=azureblob (in the storage account the app's queue is in).");
        }

        Uri queueService = azure.QueueService();
        global::Azure.Storage.Queues.QueueClient client = OpenQueue(azure.Blob, queueService, azure.Queue);
        global::Azure.Storage.Queues.QueueClient poison = OpenQueue(azure.Blob, queueService, azure.Queue + "-poison");
        var (httpUrl, key) = azure.HttpTrigger(app);
        return new Compute.FunctionsComputeBackend(new Compute.FunctionsSettings(app, azure.Queue, azure.MaxConcurrency, httpUrl, key), client, store.Location, store.Store, poison, context.TimeProvider)
        {
            Prices = azure.Prices(),
        };
    }

    /// <summary>The queue <paramref name="name"/>: by the connection string of <paramref name="blob"/>, else at <paramref name="queueService"/> with <c>DefaultAzureCredential</c>.</summary>
    internal static global::Azure.Storage.Queues.QueueClient OpenQueue(BlobSettings blob, Uri queueService, string name) =>
        blob.ConnectionString is { } connection
            ? new global::Azure.Storage.Queues.QueueClient(connection, name, Compute.FunctionsComputeBackend.QueueOptions())
            : new global::Azure.Storage.Queues.QueueClient(new Uri(queueService, name), new global::Azure.Identity.DefaultAzureCredential(), Compute.FunctionsComputeBackend.QueueOptions());

    private static IObjectStore OpenForWorker(StoreLocation location)
    {
        if (s_clientStores.TryGetValue(location.Bucket, out BlobSettings? known))
        {
            return new BlobObjectStore(known);
        }

        var (service, container) = Split(location.Bucket);
        foreach (string variable in new[] { ConnectionStringVariable, HostStorageVariable })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } connection && SameService(connection, service))
            {
                return new BlobObjectStore(new BlobSettings(container, connection));
            }
        }

        // A deployed worker with no connection string for this account: its platform identity (managed identity).
        return new BlobObjectStore(new BlobSettings(container, AccountUrl: service));
    }

    /// <summary>A container's address, split into the Blob service's address and the container's name.</summary>
    internal static (Uri Service, string Container) Split(string containerUrl)
    {
        if (!Uri.TryCreate(containerUrl, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"The azureblob store location '{containerUrl}' is not a container's address (https://account.blob.core.windows.net/container).");
        }

        string path = uri.AbsolutePath.TrimEnd('/');
        int slash = path.LastIndexOf('/');
        return (new Uri(uri.GetLeftPart(UriPartial.Authority) + path[..(slash + 1)]), path[(slash + 1)..]);
    }

    private static bool SameService(string connection, Uri service)
    {
        try
        {
            return string.Equals(new BlobServiceClient(connection).Uri.ToString().TrimEnd('/'), service.ToString().TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>Registers the Azure provider with a <see cref="NeutralBuilder"/>.</summary>
public static class AzureNeutralBuilderExtensions
{
    /// <summary>Adds the <c>azureblob</c> store to the cloud <c>AddNeutral</c> registers: <c>services.AddNeutral(configuration).AddAzure()</c>.</summary>
    public static NeutralBuilder AddAzure(this NeutralBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AzureProvider.AddTo(builder.Providers);
        return builder;
    }
}
