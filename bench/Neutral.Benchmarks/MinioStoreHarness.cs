using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers.OpenWhisk;

namespace Neutral.Benchmarks;

/// <summary>
/// <see cref="MinioObjectStore"/> against the same S3 requests sent bare (signed by the store's own connection, with
/// none of the store's checks or answer handling), on an S3 server (Ceph RGW from <c>scripts/services.sh</c> by
/// default): put, get, ranged get, and create-only put against a plain put, for 4 KiB and 1 MiB objects, one at a time
/// and 16 at once. Rounds alternate raw and store, and which goes
/// first, so that the server's drift hits both alike. <c>dotnet run -c Release --project bench/Neutral.Benchmarks -- minio-store</c>
/// (<c>BENCH_S3_ENDPOINT</c>, <c>BENCH_S3_ACCESS_KEY</c>, <c>BENCH_S3_SECRET_KEY</c> name another server).
/// </summary>
public static class MinioStoreHarness
{
    /// <summary>Runs every comparison and prints one line each: operations per second, raw and store, and the ratio.</summary>
    public static async Task RunAsync()
    {
        var settings = new MinioSettings(
            Environment.GetEnvironmentVariable("BENCH_S3_ENDPOINT") ?? "127.0.0.1:7480",
            Environment.GetEnvironmentVariable("BENCH_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY",
            Environment.GetEnvironmentVariable("BENCH_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET",
            Secure: false);
        string bucket = "neutral-bench-" + Guid.NewGuid().ToString("N")[..8];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; server {settings}, bucket {bucket}");
        using var store = new MinioObjectStore(settings, bucket);
        using var http = new HttpClient();
        var raw = new S3Connection(settings, http);
        await store.EnsureBucketAsync();
        try
        {
            foreach (int size in new[] { 4 * 1024, 1024 * 1024 })
            {
                byte[] data = new byte[size];
                Random.Shared.NextBytes(data);
                const int Sources = 32;
                for (int i = 0; i < Sources; i++)
                {
                    await store.PutAsync(Source(size, i), data);
                }

                (long offset, int length) range = size > 64 * 1024 ? (size / 4, 64 * 1024) : (size / 4, size / 4);
                foreach (int inFlight in new[] { 1, 16 })
                {
                    int ops = (size, inFlight) switch { (4096, 1) => 150, (4096, _) => 2_000, (_, 1) => 30, _ => 120 };
                    string label = $"{size / 1024,4} KiB, {inFlight,2} at once, {ops,5} ops";
                    await BenchLoops.CompareAsync($"put            {label}", () => store.DeletePrefixAsync("w/"), ops, inFlight,
                        (key, i) => RawPutAsync(raw, bucket, key, data),
                        (key, i) => store.PutAsync(key, data));
                    await BenchLoops.CompareAsync($"get            {label}", () => store.DeletePrefixAsync("w/"), ops, inFlight,
                        (key, i) => RawGetAsync(raw, bucket, Source(size, i % Sources), null),
                        (key, i) => store.GetAsync(Source(size, i % Sources)));
                    await BenchLoops.CompareAsync($"range {range.length / 1024,2} KiB   {label}", () => store.DeletePrefixAsync("w/"), ops, inFlight,
                        (key, i) => RawGetAsync(raw, bucket, Source(size, i % Sources), range),
                        (key, i) => store.GetRangeAsync(Source(size, i % Sources), range.offset, range.length));
                    await BenchLoops.CompareAsync($"create vs put  {label}", () => store.DeletePrefixAsync("w/"), ops, inFlight,
                        (key, i) => RawPutAsync(raw, bucket, key, data),
                        async (key, i) =>
                        {
                            if (!await store.TryCreateAsync(key, data))
                            {
                                throw new InvalidOperationException($"{key} existed");
                            }
                        });
                }
            }
        }
        finally
        {
            await store.DeletePrefixAsync("");
            await store.DeleteBucketAsync();
        }
    }

    private static string Source(int size, int i) => $"source/{size}/{i}";

    /// <summary>What <see cref="MinioObjectStore.PutAsync"/> sends, sent bare: a signed PUT of the bytes.</summary>
    private static async Task RawPutAsync(S3Connection client, string bucket, string key, byte[] data)
    {
        using HttpResponseMessage response = await client.SendAsync(HttpMethod.Put, bucket, key, body: data);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A signed GET (ranged when asked) whose body is read into a new array, as the store returns it.</summary>
    private static async Task<byte[]> RawGetAsync(S3Connection client, string bucket, string key, (long Offset, int Length)? range)
    {
        KeyValuePair<string, string>[]? headers = range is { } r ? [new("range", $"bytes={r.Offset}-{r.Offset + r.Length - 1}")] : null;
        using HttpResponseMessage response = await client.SendAsync(HttpMethod.Get, bucket, key, headers: headers, completion: HttpCompletionOption.ResponseHeadersRead);
        return response.IsSuccessStatusCode
            ? await response.Content.ReadAsByteArrayAsync()
            : throw new InvalidOperationException($"HTTP {(int)response.StatusCode} for {key}");
    }
}
