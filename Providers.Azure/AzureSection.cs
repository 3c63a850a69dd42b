using System;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.Azure;

/// <summary>
/// The <c>Neutral:Azure</c> section read and checked once, for the store, the compute and the self-deployment alike: a
/// wrong value fails naming its key, whichever of them reads it first. What only one of them needs (the app, the HTTP
/// trigger, the Queue service's address, the prices) is read when asked for, so that a store-only configuration needs
/// no compute keys; deployment-only keys (<c>SubscriptionId</c>, <c>ResourceGroup</c>, ...) are read by the deployment
/// from <see cref="Section"/>.
/// </summary>
internal sealed partial class AzureSection
{
    private AzureSection(IConfiguration section, string prefix)
    {
        Section = section;
        Prefix = prefix;
        Blob = BlobFrom(section, prefix);
        Queue = section["Queue"] is { Length: > 0 } q ? q : Compute.FunctionsSettings.DefaultQueue;
        if (Queue.Length is < 3 or > 63 || !StorageName().IsMatch(Queue))
        {
            throw new NeutralConfigurationException(prefix + "Queue", Queue, "a queue name has 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.");
        }

        MaxConcurrency = ProviderSettings.WholeNumber(section, prefix, "MaxConcurrency", 256, 1, 10_000);
    }

    /// <summary>Reads <c>Azure</c> under <paramref name="neutral"/> (the <c>Neutral</c> section).</summary>
    public static AzureSection Read(IConfiguration neutral) => new(neutral.GetSection(AzureProvider.Section), NeutralConfiguration.Section + ":" + AzureProvider.Section + ":");

    /// <summary>The raw section, for keys only one reader needs.</summary>
    public IConfiguration Section { get; }

    /// <summary><c>Neutral:Azure:</c>, for error keys.</summary>
    public string Prefix { get; }

    /// <summary>The store's settings: a connection string or an account URL, and a container.</summary>
    public BlobSettings Blob { get; }

    /// <summary>The app's queue: <c>Queue</c>, else <see cref="Compute.FunctionsSettings.DefaultQueue"/>.</summary>
    public string Queue { get; }

    public int MaxConcurrency { get; }

    /// <summary>The Function App's name; throws naming <c>Neutral:Azure:App</c> and <paramref name="what"/> it is for.</summary>
    public string RequireApp(string what) => ProviderSettings.Required(Section, Prefix, "App", what);

    /// <summary>
    /// The HTTP trigger's address and key when <c>InvocationType</c> is <c>Http</c> (<c>FunctionUrl</c>, else the
    /// app's default host name); nulls for <c>Queue</c>, the default.
    /// </summary>
    public (Uri? Url, string? Key) HttpTrigger(string app)
    {
        switch (Section["InvocationType"])
        {
            case null or "" or "Queue":
                return (null, null);
            case "Http":
                string url = Section["FunctionUrl"] is { Length: > 0 } u ? u : $"https://{app}.azurewebsites.net/";
                Uri httpUrl = Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https" ? parsed
                    : throw new NeutralConfigurationException(Prefix + "FunctionUrl", url, "it must be the Function App's address, e.g. https://myapp.azurewebsites.net/.");
                return (httpUrl, ProviderSettings.Required(Section, Prefix, "FunctionKey", "the HTTP function's key (az functionapp function keys list), in NEUTRAL__AZURE__FUNCTIONKEY rather than a file"));
            case string other:
                throw new NeutralConfigurationException(Prefix + "InvocationType", other, "it must be Queue (a storage queue message per call; the default) or Http (the app's HTTP function, with FunctionKey).");
        }
    }

    /// <summary>
    /// The Queue service of the store's account: the one its connection string names, else <c>QueueAccountUrl</c>, else
    /// the Queue service beside <c>AccountUrl</c>.
    /// </summary>
    public Uri QueueService()
    {
        if (Blob.ConnectionString is { } connection)
        {
            return new global::Azure.Storage.Queues.QueueServiceClient(connection).Uri;
        }

        return ProviderSettings.HttpUrl(Section, Prefix, "QueueAccountUrl", "it must be the Queue service's address, e.g. https://myaccount.queue.core.windows.net/.")
            ?? QueueServiceOf(Blob.AccountUrl!) ?? throw new NeutralConfigurationException(Prefix + "QueueAccountUrl", null,
                $"the Queue service's address cannot be told from AccountUrl {Blob.AccountUrl}: set it, e.g. https://myaccount.queue.core.windows.net/.");
    }

    /// <summary>The prices the cost estimate uses: the <c>PricePer...</c> keys and <c>BilledMemoryMb</c>, else the Consumption plan's.</summary>
    public Compute.FunctionsPrices Prices()
    {
        var defaults = new Compute.FunctionsPrices();
        return new Compute.FunctionsPrices(
            ProviderSettings.Price(Section, Prefix, "PricePerGbSecond", defaults.PerGbSecond),
            ProviderSettings.Price(Section, Prefix, "PricePerMillionExecutions", defaults.PerMillionExecutions),
            ProviderSettings.WholeNumber(Section, Prefix, "BilledMemoryMb", defaults.MemoryMb, 128, 1536),
            ProviderSettings.Price(Section, Prefix, "PricePerTenThousandBlobWrites", defaults.PerTenThousandBlobWrites),
            ProviderSettings.Price(Section, Prefix, "PricePerTenThousandBlobReads", defaults.PerTenThousandBlobReads),
            ProviderSettings.Price(Section, Prefix, "PricePerTenThousandQueueOperations", defaults.PerTenThousandQueueOperations));
    }

    /// <summary><c>https://a.blob.core.windows.net/</c> to <c>https://a.queue.core.windows.net/</c>; null for an address of another shape.</summary>
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

    private static BlobSettings BlobFrom(IConfiguration section, string prefix)
    {
        string container = section["Container"] is { Length: > 0 } named ? named
            : ProviderSettings.Missing(prefix + "Container", "it is required: the Blob container job data goes to (created if missing), e.g. neutral.", "missing");
        if (container.Length is < 3 or > 63 || !StorageName().IsMatch(container))
        {
            throw new NeutralConfigurationException(prefix + "Container", container,
                "a container name has 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.");
        }

        string? connection = section["ConnectionString"] is { Length: > 0 } c ? c : null;
        Uri? account = ProviderSettings.HttpUrl(section, prefix, "AccountUrl", "it must be the Blob service's address, e.g. https://myaccount.blob.core.windows.net/.");
        if (connection is null && account is null)
        {
            connection = ProviderSettings.Missing(prefix + "ConnectionString",
                "set it (the storage account's connection string, in NEUTRAL__AZURE__CONNECTIONSTRING rather than a file), or set AccountUrl to sign in with Entra ID (DefaultAzureCredential).",
                "UseDevelopmentStorage=true");
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

    /// <summary>A container's or queue's name: lowercase letters, digits and single hyphens, a letter or digit at each end.</summary>
    [GeneratedRegex("^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$")]
    private static partial Regex StorageName();
}
