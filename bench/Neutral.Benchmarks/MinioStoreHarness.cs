using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Minio;
using Minio.DataModel.Args;
using Neutral.Providers.OpenWhisk;

namespace Neutral.Benchmarks;

/// <summary>
/// <see cref="MinioObjectStore"/> against the same operations made with the Minio client directly, on an S3 server
/// (Ceph RGW from <c>scripts/services.sh</c> by default): put, get, ranged get, and create-only put against a plain
/// put, for 4 KiB and 1 MiB objects, one at a time and 16 at once. Rounds alternate raw and store, and which goes
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
        using IMinioClient raw = MinioObjectStore.Connect(settings);
        using var http = new HttpClient();
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

                if (size == 4096)
                {
                    Console.WriteLine($"the Minio client's own ranged GET (GetObjectArgs.WithOffsetAndLength) {await ClientRangeAsync(raw, bucket, Source(size, 0))}; raw ranged GETs are presigned GETs with a Range header");
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
                        (key, i) => RawRangeAsync(raw, http, bucket, Source(size, i % Sources), range),
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
            await raw.RemoveBucketAsync(new RemoveBucketArgs().WithBucket(bucket));
        }
    }

    private static string Source(int size, int i) => $"source/{size}/{i}";

    /// <summary>What <see cref="MinioObjectStore.PutAsync"/> does, made directly: a PUT from a stream over the bytes.</summary>
    private static async Task RawPutAsync(IMinioClient client, string bucket, string key, byte[] data)
    {
        using var stream = new MemoryStream(data, writable: false);
        await client.PutObjectAsync(new PutObjectArgs().WithBucket(bucket).WithObject(key)
            .WithStreamData(stream).WithObjectSize(data.Length).WithContentType("application/octet-stream"));
    }

    /// <summary>
    /// A ranged GET made directly. The Minio client's own (<c>GetObjectArgs.WithOffsetAndLength</c>) cannot be used: it
    /// first sends a HEAD with the same Range header, and takes the server's <c>206</c> for an error
    /// (<c>PartialContentException</c> on Ceph RGW). What works is what the store does: a presigned GET sent with
    /// <see cref="HttpClient"/>, with the Range header.
    /// </summary>
    private static async Task<byte[]> RawRangeAsync(IMinioClient client, HttpClient http, string bucket, string key, (long Offset, int Length) range)
    {
        string url = await client.PresignedGetObjectAsync(new PresignedGetObjectArgs().WithBucket(bucket).WithObject(key).WithExpiry(300));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(range.Offset, range.Offset + range.Length - 1);
        using HttpResponseMessage response = await http.SendAsync(request);
        return response.StatusCode == System.Net.HttpStatusCode.PartialContent
            ? await response.Content.ReadAsByteArrayAsync()
            : throw new InvalidOperationException($"HTTP {(int)response.StatusCode} for a range of {key}");
    }

    /// <summary>Whether the Minio client's own ranged GET works against this server (it does not against Ceph RGW).</summary>
    private static async Task<string> ClientRangeAsync(IMinioClient client, string bucket, string key)
    {
        try
        {
            await RawGetAsync(client, bucket, key, (1, 1));
            return "works";
        }
        catch (Minio.Exceptions.MinioException e)
        {
            return "fails: " + e.GetType().Name;
        }
    }

    /// <summary>A GET (ranged when asked) whose body is read into a new array, as the store returns it.</summary>
    private static async Task<byte[]> RawGetAsync(IMinioClient client, string bucket, string key, (long Offset, int Length)? range)
    {
        byte[]? data = null;
        GetObjectArgs args = new GetObjectArgs().WithBucket(bucket).WithObject(key).WithCallbackStream(async (stream, token) =>
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, token);
            data = buffer.ToArray();
        });
        if (range is { } r)
        {
            args = args.WithOffsetAndLength(r.Offset, r.Length);
        }

        await client.GetObjectAsync(args);
        return data ?? throw new InvalidOperationException("no body for " + key);
    }
}
