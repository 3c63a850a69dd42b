using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// The S3-compatible server the tests talk to (Ceph RGW from scripts/services.sh), and a bucket of this test class's
/// own, emptied and removed at the end.
/// </summary>
public class S3Bucket : IAsyncLifetime
{
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

    public string Name { get; } = "neutral-test-" + Guid.NewGuid().ToString("N")[..12];

    public MinioObjectStore Store { get; private set; } = null!;

    /// <summary>Configuration with the <c>Neutral:Minio</c> section for this bucket, plus <paramref name="values"/> (later ones win).</summary>
    public IConfiguration Configuration(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string?>
        {
            ["Neutral:Storage"] = OpenWhiskProvider.StoreKind,
            ["Neutral:Minio:Endpoint"] = Server.Endpoint,
            ["Neutral:Minio:Bucket"] = Name,
            ["Neutral:Minio:AccessKey"] = Settings.AccessKey,
            ["Neutral:Minio:SecretKey"] = Settings.SecretKey,
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
                await http.GetAsync(new Uri("http://" + Server.Endpoint + "/"));
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException(
                    $"No S3 server answers at {Server.Endpoint}: start the test servers with `bash scripts/services.sh start` (scripts/test.sh does it). {e.Message}", e);
            }
        }

        Store = new MinioObjectStore(Server, Name);
        await Store.EnsureBucketAsync();
    }

    public async Task DisposeAsync()
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
}
