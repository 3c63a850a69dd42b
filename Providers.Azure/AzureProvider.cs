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
        BlobSettings settings = SettingsFrom(context);
        var store = new BlobObjectStore(settings);
        async Task PrepareAsync(CancellationToken cancellationToken)
        {
            try
            {
                await store.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not NeutralConfigurationException and not OperationCanceledException)
            {
                throw new NeutralConfigurationException($"Neutral:{Section}:Container", settings.Container, $"the container could not be used at {settings}: {e.GetType().Name}: {e.Message}", e);
            }
        }

        var location = new StoreLocation(StoreKind, store.ContainerUri.ToString().TrimEnd('/'), Cloud.InternalPrefix);
        s_clientStores[location.Bucket] = settings;
        var workerEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (settings.ConnectionString is { } connection)
        {
            workerEnvironment[ConnectionStringVariable] = connection;
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
        string app = ProviderSettings.Required(section, prefix, "App", "the Function App's name");
        string queue = QueueFrom(section, prefix);

        int concurrency = ProviderSettings.WholeNumber(section, prefix, "MaxConcurrency", 256, 1, 10_000);
        if (context.Store is not { } store || store.Location.Kind != StoreKind)
        {
            throw new NeutralConfigurationException("Neutral:Storage", context.Store?.Location.Kind,
                "Azure Functions workers read and write the job through Blob storage: use Storage=azureblob (in the storage account the app's queue is in).");
        }

        BlobSettings blob = SettingsFrom(context);
        Uri queueService = QueueServiceFrom(blob, section, prefix);
        global::Azure.Storage.Queues.QueueClient client = OpenQueue(blob, queueService, queue);
        global::Azure.Storage.Queues.QueueClient poison = OpenQueue(blob, queueService, queue + "-poison");

        Uri? httpUrl = null;
        string? key = null;
        switch (section["InvocationType"])
        {
            case null or "" or "Queue":
                break;
            case "Http":
                string url = section["FunctionUrl"] is { Length: > 0 } u ? u : $"https://{app}.azurewebsites.net/";
                httpUrl = Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out Uri? parsedUrl) && parsedUrl.Scheme is "http" or "https" ? parsedUrl
                    : throw new NeutralConfigurationException(prefix + "FunctionUrl", url, "it must be the Function App's address, e.g. https://myapp.azurewebsites.net/.");
                key = ProviderSettings.Required(section, prefix, "FunctionKey", "the HTTP function's key (az functionapp function keys list), in NEUTRAL__AZURE__FUNCTIONKEY rather than a file");
                break;
            case string other:
                throw new NeutralConfigurationException(prefix + "InvocationType", other, "it must be Queue (a storage queue message per call; the default) or Http (the app's HTTP function, with FunctionKey).");
        }

        var defaults = new Compute.FunctionsPrices();
        var prices = new Compute.FunctionsPrices(
            Price(section, prefix, "PricePerGbSecond", defaults.PerGbSecond),
            Price(section, prefix, "PricePerMillionExecutions", defaults.PerMillionExecutions),
            ProviderSettings.WholeNumber(section, prefix, "BilledMemoryMb", defaults.MemoryMb, 128, 1536),
            Price(section, prefix, "PricePerTenThousandBlobWrites", defaults.PerTenThousandBlobWrites),
            Price(section, prefix, "PricePerTenThousandBlobReads", defaults.PerTenThousandBlobReads),
            Price(section, prefix, "PricePerTenThousandQueueOperations", defaults.PerTenThousandQueueOperations));
        return new Compute.FunctionsComputeBackend(new Compute.FunctionsSettings(app, queue, concurrency, httpUrl, key), client, store.Location, store.Store, poison, context.TimeProvider)
        {
            Prices = prices,
        };
    }

    private static decimal Price(Microsoft.Extensions.Configuration.IConfiguration section, string prefix, string key, decimal fallback) =>
        section[key] is not { } text ? fallback
        : decimal.TryParse(text, System.Globalization.NumberStyles.AllowDecimalPoint | System.Globalization.NumberStyles.AllowExponent, System.Globalization.CultureInfo.InvariantCulture, out decimal value) && value >= 0 ? value
        : throw new NeutralConfigurationException(prefix + key, text, "it must be a price in US dollars, a number of 0 or more with '.' as the decimal point.");

    /// <summary><c>https://a.blob.core.windows.net/</c> to <c>https://a.queue.core.windows.net/</c>; null for an address of another shape.</summary>
    /// <summary>
    /// The Queue service of the account of <paramref name="blob"/>: the one its connection string names, else
    /// <c>QueueAccountUrl</c>, else the Queue service beside <c>AccountUrl</c>.
    /// </summary>
    internal static Uri QueueServiceFrom(BlobSettings blob, Microsoft.Extensions.Configuration.IConfiguration section, string prefix)
    {
        if (blob.ConnectionString is { } connection)
        {
            return new global::Azure.Storage.Queues.QueueServiceClient(connection).Uri;
        }

        return section["QueueAccountUrl"] is { Length: > 0 } url
            ? Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https" ? parsed
                : throw new NeutralConfigurationException(prefix + "QueueAccountUrl", url, "it must be the Queue service's address, e.g. https://myaccount.queue.core.windows.net/.")
            : QueueServiceOf(blob.AccountUrl!) ?? throw new NeutralConfigurationException(prefix + "QueueAccountUrl", null,
                $"the Queue service's address cannot be told from AccountUrl {blob.AccountUrl}: set it, e.g. https://myaccount.queue.core.windows.net/.");
    }

    /// <summary>The queue <paramref name="name"/>: by the connection string of <paramref name="blob"/>, else at <paramref name="queueService"/> with <c>DefaultAzureCredential</c>.</summary>
    internal static global::Azure.Storage.Queues.QueueClient OpenQueue(BlobSettings blob, Uri queueService, string name) =>
        blob.ConnectionString is { } connection
            ? new global::Azure.Storage.Queues.QueueClient(connection, name, Compute.FunctionsComputeBackend.QueueOptions())
            : new global::Azure.Storage.Queues.QueueClient(new Uri(queueService, name), new global::Azure.Identity.DefaultAzureCredential(), Compute.FunctionsComputeBackend.QueueOptions());

    /// <summary>The queue's name: <c>Queue</c>, else <see cref="Compute.FunctionsSettings.DefaultQueue"/>, checked.</summary>
    internal static string QueueFrom(Microsoft.Extensions.Configuration.IConfiguration section, string prefix)
    {
        string queue = section["Queue"] is { Length: > 0 } q ? q : Compute.FunctionsSettings.DefaultQueue;
        if (queue.Length is < 3 or > 63 || !System.Text.RegularExpressions.Regex.IsMatch(queue, "^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$"))
        {
            throw new NeutralConfigurationException(prefix + "Queue", queue, "a queue name has 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.");
        }

        return queue;
    }

    internal static Uri? QueueServiceOf(Uri blobService)
    {
        string[] labels = blobService.Host.Split('.');
        if (labels.Length < 3 || labels[1] != "blob")
        {
            return null;
        }

        labels[1] = "queue";
        return new UriBuilder(blobService) { Host = string.Join('.', labels) }.Uri;
    }

    /// <summary>The store's settings from the section: a connection string or an account URL, and a container.</summary>
    internal static BlobSettings SettingsFrom(ProviderContext context)
    {
        var (section, prefix) = context.Section(Section);
        return SettingsFrom(section, prefix);
    }

    /// <summary>The store's settings from <paramref name="section"/> (<c>Neutral:Azure</c>), its keys named with <paramref name="prefix"/> in errors.</summary>
    internal static BlobSettings SettingsFrom(Microsoft.Extensions.Configuration.IConfiguration section, string prefix)
    {
        string container = ProviderSettings.Required(section, prefix, "Container", "the Blob container job data goes to (created if missing), e.g. neutral");
        if (container.Length is < 3 or > 63 || !System.Text.RegularExpressions.Regex.IsMatch(container, "^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$"))
        {
            throw new NeutralConfigurationException(prefix + "Container", container,
                "a container name has 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.");
        }

        string? connection = section["ConnectionString"] is { Length: > 0 } c ? c : null;
        Uri? account = null;
        if (section["AccountUrl"] is { Length: > 0 } url)
        {
            account = Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https"
                ? parsed
                : throw new NeutralConfigurationException(prefix + "AccountUrl", url, "it must be the Blob service's address, e.g. https://myaccount.blob.core.windows.net/.");
        }

        if (connection is null && account is null)
        {
            throw new NeutralConfigurationException(prefix + "ConnectionString", null,
                "set it (the storage account's connection string, in NEUTRAL__AZURE__CONNECTIONSTRING rather than a file), or set AccountUrl to sign in with Entra ID (DefaultAzureCredential).");
        }

        if (connection is not null && account is not null)
        {
            throw new NeutralConfigurationException(prefix + "AccountUrl", account.ToString(), "ConnectionString is set too: set one of them.");
        }

        if (connection is not null)
        {
            try
            {
                _ = new BlobServiceClient(connection);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // The message never repeats the value: it holds the account key.
                throw new NeutralConfigurationException(prefix + "ConnectionString", "(hidden)", "it is not a storage connection string (DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net).", e);
            }
        }

        return new BlobSettings(container, connection, account);
    }

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
