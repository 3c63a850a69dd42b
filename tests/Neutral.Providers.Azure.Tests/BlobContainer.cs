using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Azure.Storage.Blobs;

namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// The Blob service the tests talk to (Azurite from scripts/services.sh, with its well-known development account), and
/// a container of this test class's own, emptied and removed at the end.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync.")]
public class BlobContainer : Neutral.Testing.StoreFixture
{
    /// <summary>Azurite's development account: public, the same in every Azurite; a throwaway key of a loopback server.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private BlobObjectStore? _store;

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

    public BlobSettings Settings => new(Name, ConnectionString);

    public override BlobObjectStore Store => _store ?? throw new InvalidOperationException("InitializeAsync first");

    protected override string ServerKind => "Blob service";

    protected override Uri ServerAddress => Settings.ServiceUri();

    /// <summary>The <c>Neutral:Azure</c> section for this container.</summary>
    protected override IEnumerable<KeyValuePair<string, string?>> StoreSettings() => new Dictionary<string, string?>
    {
        ["Neutral:Storage"] = AzureProvider.StoreKind,
        ["Neutral:Azure:ConnectionString"] = ConnectionString,
        ["Neutral:Azure:Container"] = Name,
    };

    protected override async Task CreateAsync()
    {
        _store = new BlobObjectStore(Settings);
        await _store.EnsureContainerAsync();
    }

    protected override async Task RemoveAsync()
    {
        await new BlobServiceClient(ConnectionString).GetBlobContainerClient(Name).DeleteIfExistsAsync();
        Store.Dispose();
    }
}

/// <summary>A container on the restartable Azurite (data on disk), for the tests that restart it mid-job.</summary>
public sealed class RestartableBlobContainer() : BlobContainer(Environment.GetEnvironmentVariable("NEUTRAL_TEST_AZURE_RESTARTABLE_CONNECTION_STRING")
    ?? DefaultConnectionString.Replace(":10000/", ":10010/", StringComparison.Ordinal).Replace(":10001/", ":10011/", StringComparison.Ordinal))
{
    public override void RestartServer() => Neutral.Testing.TestServers.RestartAzurite();
}
