using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using System.Xml;
using System.Xml.Linq;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// An S3 error answer turned into the exception whose type says whether a retry can help (Core's transient-error
/// rule): refused credentials or permissions are <see cref="UnauthorizedAccessException"/>, a missing bucket or a
/// wrong region <see cref="InvalidOperationException"/> (neither changes by asking again), throttling
/// <see cref="ThrottledException"/>, anything else <see cref="IOException"/>. Every message names the server, the
/// bucket, the key and the server's code and message, and what to do; never the secret key.
/// </summary>
internal static class S3Errors
{
    private const int MaxMessage = 300;

    /// <summary>The exception for <paramref name="response"/>, a failed <paramref name="operation"/> (e.g. "Reading 'a/b'").</summary>
    public static async Task<Exception> ToExceptionAsync(HttpResponseMessage response, string operation, S3Connection connection, string bucket,
        CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var (code, message) = Parse(body);
        return ToException((int)response.StatusCode, response.ReasonPhrase, code, message, operation, connection.Settings, bucket);
    }

    /// <summary>The exception for an answer with status <paramref name="status"/> and the error document's code and message.</summary>
    public static Exception ToException(int status, string? reason, string? code, string? message, string operation, MinioSettings server, string bucket)
    {
        string what = $"{operation} in bucket '{bucket}' at {server} failed: HTTP {status} {code ?? reason}{(message is { Length: > 0 } ? ": " + Trim(message) : "")}";
        return (status, code) switch
        {
            (_, "SignatureDoesNotMatch" or "InvalidAccessKeyId") => new UnauthorizedAccessException(
                $"{what}. The server refused the keys: check Neutral:Minio:AccessKey and Neutral:Minio:SecretKey (NEUTRAL__MINIO__ACCESSKEY, NEUTRAL__MINIO__SECRETKEY)."),
            (_, "RequestTimeTooSkewed") => new UnauthorizedAccessException(
                $"{what}. This machine's clock differs from the server's by more than the 15 minutes a signature allows: set the clock (NTP)."),
            (_, "AuthorizationHeaderMalformed") => new InvalidOperationException(
                $"{what}. Check Neutral:Minio:Region (signing for '{server.Region}'): it must be the region the server expects."),
            (404, "NoSuchBucket") => new InvalidOperationException(
                $"{what}. The bucket does not exist: check Neutral:Minio:Bucket; a client creates it when it connects."),
            (401 or 403, _) => new UnauthorizedAccessException(
                $"{what}. The access key {server.AccessKey} may not do this in bucket '{bucket}': check Neutral:Minio:AccessKey and Neutral:Minio:SecretKey, and the key's permissions on the bucket."),
            (429, _) or (503, "SlowDown") => new ThrottledException($"{what}. The server asks to slow down."),
            _ => new IOException(what + "."),
        };
    }

    /// <summary>The <c>Code</c> and <c>Message</c> of an S3 error document; nulls when the body is not one (a HEAD has none).</summary>
    public static (string? Code, string? Message) Parse(string body)
    {
        if (!body.TrimStart().StartsWith('<'))
        {
            return (null, body.Length > 0 ? body : null);
        }

        try
        {
            XElement root = S3Xml.Parse(body);
            return (S3Xml.Child(root, "Code"), S3Xml.Child(root, "Message"));
        }
        catch (XmlException)
        {
            return (null, body);
        }
    }

    private static string Trim(string text) => text.Length <= MaxMessage ? text : text[..MaxMessage] + "...";
}
