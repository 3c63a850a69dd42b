using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Neutral.Testing;

namespace Neutral.Providers.Aws.Tests;

/// <summary>The store contract, through AWSSDK.S3, against a real S3-compatible server (Ceph RGW).</summary>
public sealed class S3StoreContractTests(S3Bucket bucket) : ObjectStoreContract, IClassFixture<S3Bucket>
{
    protected override IObjectStore Store => bucket.Store;

    protected override int ConcurrentWriters => 32;
}

/// <summary>What the contract does not cover: large objects in parts, credentials.</summary>
public sealed class S3StoreTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task An_object_of_64_MiB_and_more_goes_in_parts_and_comes_back_whole_and_in_ranges()
    {
        await LargeObjects.RoundTripAsync(bucket.Store, S3ObjectStore.LargeObject, S3ObjectStore.PartSize, async key =>
        {
            // Written as a multipart upload: its ETag says how many parts ("...-5").
            using IAmazonS3 client = S3ObjectStore.Connect(bucket.Settings, S3Bucket.Credentials);
            var head = await client.GetObjectMetadataAsync(bucket.Name, key);
            Assert.EndsWith("-5\"", head.ETag, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_by_the_server_and_writes_nothing()
    {
        // Connections of its own: RGW answers a refused PUT without reading its body and keeps the connection, so the
        // next request on it is misread ("xGET", 405); the SDK shares its connection pool among clients of one config.
        var config = new AmazonS3Config { ServiceURL = S3Bucket.ServiceUrl.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", CacheHttpClient = false };
        using var wrong = new AmazonS3Client(new BasicAWSCredentials(S3Bucket.AccessKey, "wrong"), config);
        using var store = new S3ObjectStore(wrong, bucket.Settings);
        var put = await Assert.ThrowsAsync<AmazonS3Exception>(() => store.PutAsync("denied/put", Bytes("x")));
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        await Assert.ThrowsAsync<AmazonS3Exception>(() => store.TryCreateAsync("denied/create", Bytes("x")));

        Assert.Null(await bucket.Store.GetAsync("denied/create"));
        Assert.Null(await bucket.Store.GetAsync("denied/put"));
    }
}
