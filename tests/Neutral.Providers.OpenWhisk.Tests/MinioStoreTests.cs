using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Minio;
using Minio.DataModel.Args;
using Neutral.Testing;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>The store contract, through the Minio client, against a real S3-compatible server (Ceph RGW).</summary>
public sealed class MinioStoreContractTests(S3Bucket bucket) : ObjectStoreContract, IClassFixture<S3Bucket>
{
    protected override IObjectStore Store => bucket.Store;
}

/// <summary>Create-only writes on S3: what the client does with the header, and atomicity under many writers.</summary>
public sealed class MinioCreateOnlyTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task The_Minio_client_turns_If_None_Match_into_metadata_so_a_conditional_put_through_it_would_replace()
    {
        // Why TryCreateAsync does not use PutObjectArgs.WithHeaders: the header never reaches the server as a condition.
        string key = "create-only/" + Guid.NewGuid().ToString("N");
        await bucket.Store.PutAsync(key, Bytes("first"));
        using IMinioClient client = MinioObjectStore.Connect(S3Bucket.Settings);
        using var data = new MemoryStream(Bytes("second"));
        await client.PutObjectAsync(new PutObjectArgs().WithBucket(bucket.Name).WithObject(key)
            .WithStreamData(data).WithObjectSize(data.Length)
            .WithHeaders(new Dictionary<string, string> { ["If-None-Match"] = "*" }));
        Assert.Equal(Bytes("second"), await bucket.Store.GetAsync(key));

        var stat = await client.StatObjectAsync(new StatObjectArgs().WithBucket(bucket.Name).WithObject(key));
        Assert.Contains(stat.MetaData, m => m.Key.Contains("if-none-match", StringComparison.OrdinalIgnoreCase));

        // The store's own create-only write is refused by the server.
        Assert.False(await bucket.Store.TryCreateAsync(key, Bytes("third")));
        Assert.Equal(Bytes("second"), await bucket.Store.GetAsync(key));
    }

    [Fact]
    public async Task Create_only_has_exactly_one_winner_among_32_concurrent_writers()
    {
        for (int round = 0; round < 5; round++)
        {
            string key = $"race/{round}/{Guid.NewGuid():N}/status";
            bool[] won = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => bucket.Store.TryCreateAsync(key, Bytes("writer " + i)))));
            Assert.Equal(1, won.Count(w => w));
            Assert.Equal(Bytes("writer " + Array.IndexOf(won, true)), await bucket.Store.GetAsync(key));
        }
    }

    [Fact]
    public async Task Wrong_credentials_fail_with_the_servers_reason()
    {
        using var store = new MinioObjectStore(S3Bucket.Settings with { SecretKey = "wrong" }, bucket.Name);
        await Assert.ThrowsAsync<global::Minio.Exceptions.AuthorizationException>(() => store.PutAsync("denied/put", Bytes("x")));
        var create = await Assert.ThrowsAsync<IOException>(() => store.TryCreateAsync("denied/create", Bytes("x")));
        Assert.Contains("HTTP 403", create.Message, StringComparison.Ordinal);
        Assert.Null(await bucket.Store.GetAsync("denied/create"));
    }
}
