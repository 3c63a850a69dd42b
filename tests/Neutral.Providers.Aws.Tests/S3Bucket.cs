using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// The S3 server the tests talk to (Ceph RGW from scripts/services.sh, which checks SigV4 and decides conditional
/// writes atomically), and a bucket of this test class's own, emptied and removed at the end.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync.")]
public class S3Bucket : Neutral.Testing.StoreFixture
{
    private S3ObjectStore? _store;

    public S3Bucket()
        : this(ServiceUrl)
    {
    }

    /// <summary>A bucket on the server at <paramref name="url"/>.</summary>
    protected S3Bucket(Uri url) => Url = url;

    public static Uri ServiceUrl { get; } = new(Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ENDPOINT") ?? "http://127.0.0.1:7480");

    public static string AccessKey { get; } = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY";

    public static string SecretKey { get; } = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET";

    public static BasicAWSCredentials Credentials { get; } = new(AccessKey, SecretKey);

    /// <summary>The server this bucket is on.</summary>
    public Uri Url { get; }

    public S3Settings Settings => new("us-east-1", Name, Url);

    public override S3ObjectStore Store => _store ?? throw new InvalidOperationException("InitializeAsync first");

    protected override string ServerKind => "S3 server";

    protected override Uri ServerAddress => Url;

    /// <summary>The <c>Neutral:Aws</c> section for this bucket.</summary>
    protected override IEnumerable<KeyValuePair<string, string?>> StoreSettings() => new Dictionary<string, string?>
    {
        ["Neutral:Storage"] = AwsProvider.StoreKind,
        ["Neutral:Aws:Region"] = "us-east-1",
        ["Neutral:Aws:Bucket"] = Name,
        ["Neutral:Aws:ServiceUrl"] = Url.ToString(),
        ["Neutral:Aws:AccessKeyId"] = AccessKey,
        ["Neutral:Aws:SecretAccessKey"] = SecretKey,
    };

    protected override async Task CreateAsync()
    {
        _store = new S3ObjectStore(Settings, Credentials);
        await _store.EnsureBucketAsync();
    }

    protected override async Task RemoveAsync()
    {
        await Store.DeletePrefixAsync("");
        using IAmazonS3 client = S3ObjectStore.Connect(Settings, Credentials);
        await client.DeleteBucketAsync(new DeleteBucketRequest { BucketName = Name });
        Store.Dispose();
    }
}

/// <summary>A bucket on the restartable gateway <c>aws</c>, for the tests that restart it mid-job.</summary>
public sealed class RestartableS3Bucket() : S3Bucket(Neutral.Testing.TestServers.RestartableEndpoint("aws"))
{
    public override void RestartServer() => Neutral.Testing.TestServers.RestartGateway("aws");
}
