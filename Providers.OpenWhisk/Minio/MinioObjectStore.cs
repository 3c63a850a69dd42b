using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml;
using System.Xml.Linq;
using Neutral.Storage;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// Neutral's object store on a MinIO server (or any S3-compatible one: Ceph RGW, S3 itself), over the S3 REST API
/// signed with Signature Version 4. Keys map one to one to object names in one bucket. Create-only writes
/// (<see cref="TryCreateAsync"/>) are conditional PUTs with <c>If-None-Match: *</c>, which the server decides
/// atomically (<c>412 Precondition Failed</c>: the object exists).
/// </summary>
/// <remarks>
/// The store sends its own requests (no S3 SDK) so that an application that references it publishes with NativeAOT
/// and trimming without a warning. Errors: refused keys or permissions throw <see cref="UnauthorizedAccessException"/>
/// and a missing bucket <see cref="InvalidOperationException"/> (a retry cannot help); throttling
/// <see cref="ThrottledException"/>; server errors <see cref="IOException"/>, and network failures
/// <see cref="HttpRequestException"/> (worth retrying). Messages name the server, bucket and key, never the secret.
/// </remarks>
public sealed class MinioObjectStore : IObjectStore, IBulkDeletingObjectStore, IDisposable
{
    /// <summary>Objects per batch delete request (the S3 limit).</summary>
    private const int DeleteBatch = 1000;

    /// <summary>The namespace of S3's request documents (bucket configuration, multi-object delete).</summary>
    private static readonly XNamespace S3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    private readonly S3Connection _s3;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a store over <paramref name="bucket"/> with an <see cref="HttpClient"/> of its own.</summary>
    public MinioObjectStore(MinioSettings settings, string bucket)
        : this(settings, bucket, new HttpClient(), ownsHttp: true)
    {
    }

    /// <summary>Creates a store over <paramref name="bucket"/> that sends through <paramref name="http"/> (which the caller disposes).</summary>
    public MinioObjectStore(MinioSettings settings, string bucket, HttpClient http)
        : this(settings, bucket, http, ownsHttp: false)
    {
    }

    private MinioObjectStore(MinioSettings settings, string bucket, HttpClient http, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentNullException.ThrowIfNull(http);
        _s3 = new S3Connection(settings, http);
        _http = http;
        _ownsHttp = ownsHttp;
        Bucket = bucket;
    }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>Creates the bucket when it does not exist yet.</summary>
    /// <exception cref="UnauthorizedAccessException">The server refused the keys, or the key may not create the bucket.</exception>
    /// <exception cref="InvalidOperationException">The bucket name is taken by another account.</exception>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        using (HttpResponseMessage head = await _s3.SendAsync(HttpMethod.Head, Bucket, null, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (head.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            if (head.StatusCode != HttpStatusCode.NotFound)
            {
                // A HEAD answer has no error document: the status says it all.
                throw S3Errors.ToException((int)head.StatusCode, head.ReasonPhrase, null, null, "Looking for the bucket", _s3.Settings, Bucket);
            }
        }

        // us-east-1 is the default location and takes no configuration; any other region is named in the body.
        ReadOnlyMemory<byte>? body = _s3.Settings.Region == "us-east-1" ? null : Encoding.UTF8.GetBytes(
            new XElement(S3Namespace + "CreateBucketConfiguration", new XElement(S3Namespace + "LocationConstraint", _s3.Settings.Region)).ToString(SaveOptions.DisableFormatting));
        using HttpResponseMessage create = await _s3.SendAsync(HttpMethod.Put, Bucket, null, body: body, contentType: "application/xml", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (create.StatusCode == HttpStatusCode.OK)
        {
            return;
        }

        string answer = await create.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var (code, message) = S3Errors.Parse(answer);
        if (code == "BucketAlreadyOwnedByYou")
        {
            return; // Created meanwhile by another client with the same keys.
        }

        if (code == "BucketAlreadyExists")
        {
            throw new InvalidOperationException($"Creating bucket '{Bucket}' at {_s3.Settings} failed: the name is taken by another account. Choose another Neutral:Minio:Bucket.");
        }

        throw S3Errors.ToException((int)create.StatusCode, create.ReasonPhrase, code, message, "Creating the bucket", _s3.Settings, Bucket);
    }

    /// <summary>Removes the bucket, which must be empty (test and benchmark clean-up).</summary>
    internal async Task DeleteBucketAsync(CancellationToken cancellationToken = default)
    {
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Delete, Bucket, null, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.OK))
        {
            throw await S3Errors.ToExceptionAsync(response, "Removing the bucket", _s3, Bucket, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Put, Bucket, key, body: data, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await S3Errors.ToExceptionAsync(response, $"Writing '{key}'", _s3, Bucket, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        KeyValuePair<string, string>[] createOnly = [new("if-none-match", "*")];
        for (int attempt = 1; ; attempt++)
        {
            using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Put, Bucket, key, headers: createOnly, body: data, cancellationToken: cancellationToken).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    return true;
                case HttpStatusCode.PreconditionFailed:
                    return false;
                case HttpStatusCode.Conflict when attempt < 10:
                    // S3 answers 409 when another conditional write of the key is in flight: ask again once it lands.
                    await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                default:
                    throw await S3Errors.ToExceptionAsync(response, $"Create-only write of '{key}'", _s3, Bucket, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Get, Bucket, key, completion: HttpCompletionOption.ResponseHeadersRead, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false),
            HttpStatusCode.NotFound when await IsNoSuchKeyAsync(response, cancellationToken).ConfigureAwait(false) => null,
            _ => throw await S3Errors.ToExceptionAsync(response, $"Reading '{key}'", _s3, Bucket, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A GET with a <c>Range</c> header, whose answer the server decides: 206 with the bytes (cut at the end), 416 when
    /// the range starts at or past the end (an empty result), 404 when there is no object.
    /// </remarks>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return await ExistsAsync(key, cancellationToken).ConfigureAwait(false) ? [] : null;
        }

        KeyValuePair<string, string>[] range = [new("range", $"bytes={offset}-{offset + length - 1}")];
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Get, Bucket, key, headers: range,
            completion: HttpCompletionOption.ResponseHeadersRead, cancellationToken: cancellationToken).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent:
                return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            case HttpStatusCode.OK:
                // A server that ignores ranges sends the whole object: cut it here.
                byte[] all = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                return all.AsSpan((int)Math.Min(offset, all.Length), (int)Math.Clamp(all.Length - offset, 0, length)).ToArray();
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                return [];
            case HttpStatusCode.NotFound when await IsNoSuchKeyAsync(response, cancellationToken).ConfigureAwait(false):
                return null;
            default:
                throw await S3Errors.ToExceptionAsync(response, $"Reading bytes {offset} to {offset + length - 1} of '{key}'", _s3, Bucket, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <remarks>ListObjectsV2, a page of up to 1,000 keys per request, following the continuation token.</remarks>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0)
        {
            ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        }

        string? token = null;
        do
        {
            var query = new List<KeyValuePair<string, string>>(3) { new("list-type", "2"), new("prefix", prefix) };
            if (token is not null)
            {
                query.Add(new("continuation-token", token));
            }

            ListPage page = await ListPageAsync(prefix, query, cancellationToken).ConfigureAwait(false);
            foreach (ObjectInfo item in page.Objects)
            {
                yield return item;
            }

            token = page.NextToken;
        }
        while (token is not null);
    }

    private sealed record ListPage(List<ObjectInfo> Objects, string? NextToken);

    private async Task<ListPage> ListPageAsync(string prefix, List<KeyValuePair<string, string>> query, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Get, Bucket, null, query,
            completion: HttpCompletionOption.ResponseHeadersRead, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await S3Errors.ToExceptionAsync(response, $"Listing '{prefix}'", _s3, Bucket, cancellationToken).ConfigureAwait(false);
        }

        XElement result;
        try
        {
            using Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            result = await S3Xml.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (XmlException e)
        {
            throw new IOException($"Listing '{prefix}' in bucket '{Bucket}' at {_s3.Settings}: the answer is not a ListBucketResult document ({e.Message}).", e);
        }

        var objects = new List<ObjectInfo>();
        foreach (XElement contents in result.Elements())
        {
            if (contents.Name.LocalName != "Contents")
            {
                continue;
            }

            string? key = S3Xml.Child(contents, "Key");
            if (key is null || !long.TryParse(S3Xml.Child(contents, "Size"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long size))
            {
                throw new IOException($"Listing '{prefix}' in bucket '{Bucket}' at {_s3.Settings}: an entry has no key or size.");
            }

            objects.Add(new ObjectInfo(key, size));
        }

        bool truncated = string.Equals(S3Xml.Child(result, "IsTruncated"), "true", StringComparison.OrdinalIgnoreCase);
        string? next = truncated ? S3Xml.Child(result, "NextContinuationToken") : null;
        if (truncated && string.IsNullOrEmpty(next))
        {
            throw new IOException($"Listing '{prefix}' in bucket '{Bucket}' at {_s3.Settings}: the page is truncated but has no continuation token.");
        }

        return new ListPage(objects, next);
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        // S3 answers a delete the same whether or not the object was there: look first.
        if (!await ExistsAsync(key, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Delete, Bucket, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.OK))
        {
            throw await S3Errors.ToExceptionAsync(response, $"Deleting '{key}'", _s3, Bucket, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <inheritdoc/>
    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        return this.DeleteInBatchesAsync(prefix, DeleteBatch, DeleteBatchAsync, cancellationToken);
    }

    /// <summary>One multi-object delete (<c>POST ?delete</c>), quiet: the answer lists only the keys that failed.</summary>
    [SuppressMessage("Security", "CA5351", Justification = "S3 requires Content-MD5 on a multi-object delete as a transfer checksum; it protects nothing secret.")]
    private async Task<int> DeleteBatchAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var delete = new XElement(S3Namespace + "Delete", new XElement(S3Namespace + "Quiet", "true"));
        foreach (string key in keys)
        {
            delete.Add(new XElement(S3Namespace + "Object", new XElement(S3Namespace + "Key", key)));
        }

        byte[] body = Encoding.UTF8.GetBytes(delete.ToString(SaveOptions.DisableFormatting));
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Post, Bucket, null, [new("delete", "")],
            body: body, contentType: "application/xml", contentMd5: MD5.HashData(body), cancellationToken: cancellationToken).ConfigureAwait(false);
        string answer = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var (code, message) = S3Errors.Parse(answer);
            throw S3Errors.ToException((int)response.StatusCode, response.ReasonPhrase, code, message, $"Deleting {keys.Count} objects", _s3.Settings, Bucket);
        }

        var errors = new List<XElement>();
        try
        {
            foreach (XElement element in S3Xml.Parse(answer).Elements())
            {
                if (element.Name.LocalName == "Error")
                {
                    errors.Add(element);
                }
            }
        }
        catch (XmlException e)
        {
            throw new IOException($"Deleting {keys.Count} objects in bucket '{Bucket}' at {_s3.Settings}: the answer is not a DeleteResult document ({e.Message}).", e);
        }

        if (errors.Count > 0)
        {
            XElement first = errors[0];
            throw new IOException($"Deleting {errors.Count} of {keys.Count} objects in bucket '{Bucket}' failed; the first, '{S3Xml.Child(first, "Key")}': {S3Xml.Child(first, "Code")} {S3Xml.Child(first, "Message")}");
        }

        return keys.Count;
    }

    private async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _s3.SendAsync(HttpMethod.Head, Bucket, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            // A HEAD answer has no body to tell a missing key from a missing bucket: the next GET or PUT will.
            HttpStatusCode.NotFound => false,
            _ => throw S3Errors.ToException((int)response.StatusCode, response.ReasonPhrase, null, null, $"Looking for '{key}'", _s3.Settings, Bucket),
        };
    }

    /// <summary>Whether a 404 is for the key (an absent object reads as null) rather than the bucket (an error).</summary>
    private static async Task<bool> IsNoSuchKeyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // The error document is small; buffering it leaves it readable again for the exception's message.
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return S3Errors.Parse(body).Code != "NoSuchBucket";
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
