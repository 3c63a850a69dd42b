using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading.Tasks;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// The Blob service the tests talk to (Azurite from scripts/services.sh, with its well-known development account), and
/// a container of this test class's own, emptied and removed at the end.
/// </summary>
public class BlobContainer : IAsyncLifetime
{
    /// <summary>Azurite's development account: public, the same in every Azurite; a throwaway key of a loopback server.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static string DefaultConnectionString { get; } = Environment.GetEnvironmentVariable("NEUTRAL_TEST_AZURE_CONNECTION_STRING")
        ?? $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;";

    public BlobContainer()
        : this(DefaultConnectionString)
    {
    }

    /// <summary>A container in the account <paramref name="connectionString"/> names.</summary>
    protected BlobContainer(string connectionString) => ConnectionString = connectionString;

    /// <summary>The account's connection string.</summary>
    public string ConnectionString { get; }

    public string Name { get; } = "neutral-test-" + Guid.NewGuid().ToString("N")[..12];

    public BlobSettings Settings => new(Name, ConnectionString);

    public BlobObjectStore Store { get; private set; } = null!;

    /// <summary>Configuration with the <c>Neutral:Azure</c> section for this container, plus <paramref name="values"/> (later ones win).</summary>
    public IConfiguration Configuration(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string?>
        {
            ["Neutral:Storage"] = AzureProvider.StoreKind,
            ["Neutral:Azure:ConnectionString"] = ConnectionString,
            ["Neutral:Azure:Container"] = Name,
        };
        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(all).Build();
    }

    public async Task InitializeAsync()
    {
        Uri service = Settings.ServiceUri();
        using (var http = new HttpClient())
        {
            try
            {
                await http.GetAsync(service);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException(
                    $"No Blob service answers at {service}: start the test servers with `bash scripts/services.sh start` (scripts/test.sh does it). {e.Message}", e);
            }
        }

        Store = new BlobObjectStore(Settings);
        await Store.EnsureContainerAsync();
    }

    public async Task DisposeAsync()
    {
        await new BlobServiceClient(ConnectionString).GetBlobContainerClient(Name).DeleteIfExistsAsync();
        Store.Dispose();
    }
}

/// <summary>A container on the restartable Azurite (data on disk), for the tests that restart it mid-job.</summary>
public sealed class RestartableBlobContainer() : BlobContainer(Environment.GetEnvironmentVariable("NEUTRAL_TEST_AZURE_RESTARTABLE_CONNECTION_STRING")
    ?? DefaultConnectionString.Replace(":10000/", ":10010/", StringComparison.Ordinal).Replace(":10001/", ":10011/", StringComparison.Ordinal))
{
}
