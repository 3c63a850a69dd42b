using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// The S3 server the tests talk to (Ceph RGW from scripts/services.sh, which checks SigV4 and decides conditional
/// writes atomically), and a bucket of this test class's own, emptied and removed at the end.
/// </summary>
public class S3Bucket : IAsyncLifetime
{
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

    public string Name { get; } = "neutral-test-" + Guid.NewGuid().ToString("N")[..12];

    public S3Settings Settings => new("us-east-1", Name, Url);

    public S3ObjectStore Store { get; private set; } = null!;

    /// <summary>Configuration with the <c>Neutral:Aws</c> section for this bucket, plus <paramref name="values"/> (later ones win).</summary>
    public IConfiguration Configuration(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string?>
        {
            ["Neutral:Storage"] = AwsProvider.StoreKind,
            ["Neutral:Aws:Region"] = "us-east-1",
            ["Neutral:Aws:Bucket"] = Name,
            ["Neutral:Aws:ServiceUrl"] = Url.ToString(),
            ["Neutral:Aws:AccessKeyId"] = AccessKey,
            ["Neutral:Aws:SecretAccessKey"] = SecretKey,
        };
        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(all).Build();
    }

    public async Task InitializeAsync()
    {
        using (var http = new HttpClient())
        {
            try
            {
                await http.GetAsync(Url);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException(
                    $"No S3 server answers at {Url}: start the test servers with `bash scripts/services.sh start` (scripts/test.sh does it). {e.Message}", e);
            }
        }

        Store = new S3ObjectStore(Settings, Credentials);
        await Store.EnsureBucketAsync();
    }

    public async Task DisposeAsync()
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
}
