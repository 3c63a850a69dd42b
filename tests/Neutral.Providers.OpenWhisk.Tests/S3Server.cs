using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// The S3-compatible server the tests talk to (Ceph RGW from scripts/services.sh), and a bucket of this test class's
/// own, emptied and removed at the end.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync.")]
public class S3Bucket : Neutral.Testing.StoreFixture
{
    private MinioObjectStore? _store;

    public S3Bucket()
        : this(Settings)
    {
    }

    /// <summary>A bucket on the server at <paramref name="server"/>.</summary>
    protected S3Bucket(MinioSettings server) => Server = server;

    public static MinioSettings Settings { get; } = new(
        Endpoint: (Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ENDPOINT") ?? "http://127.0.0.1:7480").Replace("http://", "", StringComparison.Ordinal),
        AccessKey: Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY",
        SecretKey: Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET",
        Secure: false);

    /// <summary>The server this bucket is on.</summary>
    public MinioSettings Server { get; }

    public override MinioObjectStore Store => _store ?? throw new InvalidOperationException("InitializeAsync first");

    protected override string ServerKind => "S3 server";

    protected override Uri ServerAddress => new("http://" + Server.Endpoint + "/");

    /// <summary>The <c>Neutral:Minio</c> section for this bucket.</summary>
    protected override IEnumerable<KeyValuePair<string, string?>> StoreSettings() => new Dictionary<string, string?>
    {
        ["Neutral:Storage"] = OpenWhiskProvider.StoreKind,
        ["Neutral:Minio:Endpoint"] = Server.Endpoint,
        ["Neutral:Minio:Bucket"] = Name,
        ["Neutral:Minio:AccessKey"] = Settings.AccessKey,
        ["Neutral:Minio:SecretKey"] = Settings.SecretKey,
    };

    protected override async Task CreateAsync()
    {
        _store = new MinioObjectStore(Server, Name);
        await _store.EnsureBucketAsync();
    }

    protected override async Task RemoveAsync()
    {
        await Store.DeletePrefixAsync("");
        await Store.DeleteBucketAsync();
        Store.Dispose();
    }
}

/// <summary>A bucket on the restartable gateway <c>ow</c>, for the tests that restart it mid-job.</summary>
public sealed class RestartableS3Bucket()
    : S3Bucket(Settings with { Endpoint = Neutral.Testing.TestServers.RestartableEndpoint("ow").Authority })
{
    public override void RestartServer() => Neutral.Testing.TestServers.RestartGateway("ow");
}
