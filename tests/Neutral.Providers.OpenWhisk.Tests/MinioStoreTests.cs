using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using System.Net.Http;
using Neutral.Testing;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>The store contract, through the store's own signed requests, against a real S3-compatible server (Ceph RGW).</summary>
public sealed class MinioStoreContractTests(S3Bucket bucket) : ObjectStoreContract, IClassFixture<S3Bucket>
{
    protected override IObjectStore Store => bucket.Store;

    protected override int ConcurrentWriters => 32;
}

/// <summary>What the contract does not cover: the errors the server's refusals become, keys S3 must encode, long listings, a caller's HttpClient.</summary>
public sealed class MinioCreateOnlyTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Wrong_credentials_fail_with_the_servers_reason_and_what_to_check_but_never_the_secret()
    {
        const string Secret = "not-the-secret-8d1f";
        using var store = new MinioObjectStore(S3Bucket.Settings with { SecretKey = Secret }, bucket.Name);
        var put = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.PutAsync("denied/put", Bytes("x")));
        var create = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.TryCreateAsync("denied/create", Bytes("x")));
        var read = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.GetAsync("denied/put"));
        foreach (Exception e in new Exception[] { put, create, read })
        {
            Assert.Contains("HTTP 403 SignatureDoesNotMatch", e.Message, StringComparison.Ordinal);
            Assert.Contains($"bucket '{bucket.Name}' at http://{S3Bucket.Settings.Endpoint}", e.Message, StringComparison.Ordinal);
            Assert.Contains("Neutral:Minio:SecretKey", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
        }

        Assert.Contains("'denied/create'", create.Message, StringComparison.Ordinal);
        Assert.Null(await bucket.Store.GetAsync("denied/create"));

        using var unknown = new MinioObjectStore(S3Bucket.Settings with { AccessKey = "NOSUCHKEY" }, bucket.Name);
        var list = await Assert.ThrowsAsync<UnauthorizedAccessException>(async () => await unknown.ListAsync("").ToListAsync());
        Assert.Contains("InvalidAccessKeyId", list.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_bucket_is_an_error_that_names_it_not_an_absent_object()
    {
        string missing = "neutral-missing-" + Guid.NewGuid().ToString("N")[..12];
        using var store = new MinioObjectStore(S3Bucket.Settings, missing);
        var read = await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetAsync("a/b"));
        Assert.Contains("NoSuchBucket", read.Message, StringComparison.Ordinal);
        Assert.Contains($"'{missing}'", read.Message, StringComparison.Ordinal);
        Assert.Contains("Neutral:Minio:Bucket", read.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetRangeAsync("a/b", 0, 10));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.PutAsync("a/b", Bytes("x")));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.ListAsync("a/").ToListAsync());
    }

    [Fact]
    public async Task Keys_that_S3_must_encode_round_trip_list_and_delete()
    {
        string[] keys = ["enc/a b+c=d&e", "enc/Ünïcødé/ü", "enc/100%25~_-.!'()*", "enc/semi;colon,comma@at$dollar", "enc/x/..y/z."];
        foreach (string key in keys)
        {
            await bucket.Store.PutAsync(key, Bytes(key));
            Assert.Equal(Bytes(key), await bucket.Store.GetAsync(key));
            Assert.Equal(Bytes(key)[1..3], await bucket.Store.GetRangeAsync(key, 1, 2));
            Assert.False(await bucket.Store.TryCreateAsync(key, Bytes("again")));
        }

        var listed = await bucket.Store.ListAsync("enc/").ToListAsync();
        Assert.Equal(keys.Order(StringComparer.Ordinal), listed.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.True(await bucket.Store.DeleteAsync(keys[0]));
        Assert.Equal(keys.Length - 1, await bucket.Store.DeletePrefixAsync("enc/"));
        Assert.Empty(await bucket.Store.ListAsync("enc/").ToListAsync());
    }

    [Fact]
    public async Task Listings_follow_continuation_tokens_and_batch_deletes_take_more_than_one_request()
    {
        const int Count = 1_234;
        // Sixteen at a time, and again after a pause when the server asks to slow down: 1,234 writes at once drew an
        // HTTP 503 SlowDown from the gateway in a CI run of 2026-12-06 (this raw store leaves retries to the executor).
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellationToken) =>
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await bucket.Store.PutAsync($"many/{i:D5}", Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), cancellationToken);
                    return;
                }
                catch (ThrottledException) when (attempt < 6)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), cancellationToken);
                }
            }
        });
        var listed = await bucket.Store.ListAsync("many/").ToListAsync();
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"many/{i:D5}"), listed.Select(o => o.Key));
        Assert.Equal(Bytes("1233").Length, listed[^1].Size);
        Assert.Equal(Count, await bucket.Store.DeletePrefixAsync("many/"));
        Assert.Empty(await bucket.Store.ListAsync("many/").ToListAsync());
    }

    [Fact]
    public async Task A_caller_owned_HttpClient_is_used_and_left_open()
    {
        using var http = new HttpClient();
        using (var store = new MinioObjectStore(S3Bucket.Settings, bucket.Name, http))
        {
            await store.PutAsync("owned/a", Bytes("a"));
        }

        using var again = new MinioObjectStore(S3Bucket.Settings, bucket.Name, http);
        Assert.Equal(Bytes("a"), await again.GetAsync("owned/a"));
    }
}
