using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// AWS Signature Version 4 for S3 requests, in the <c>Authorization</c> header: the canonical request (method, encoded
/// path, sorted encoded query, lower-cased sorted headers, the payload's SHA-256), the string to sign over it, and the
/// HMAC-SHA256 chain that derives the day's signing key from the secret. The secret never leaves this class.
/// </summary>
internal sealed class SigV4Signer
{
    /// <summary>The algorithm's name, first in the header and the string to sign.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The payload hash of a request without a body (SHA-256 of nothing).</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private readonly byte[] _secret;
    private readonly string _region;
    private readonly string _service;

    /// <summary>The last day's signing key: deriving it costs four HMACs, and a day signs many requests.</summary>
    private DayKey? _signingKey;

    public SigV4Signer(string accessKey, string secretKey, string region, string service = "s3")
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKey);
        ArgumentException.ThrowIfNullOrEmpty(secretKey);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentException.ThrowIfNullOrEmpty(service);
        AccessKey = accessKey;
        _secret = Encoding.UTF8.GetBytes("AWS4" + secretKey);
        _region = region;
        _service = service;
    }

    /// <summary>The access key (named in the credential scope, not secret).</summary>
    public string AccessKey { get; }

    /// <summary><c>x-amz-date</c>'s form of <paramref name="time"/>: <c>yyyyMMddTHHmmssZ</c>, UTC.</summary>
    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The lower-case hex SHA-256 of <paramref name="payload"/>, for <c>x-amz-content-sha256</c>.</summary>
    public static string PayloadHash(ReadOnlySpan<byte> payload)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The query string as it is signed, and as it must be sent: names and values encoded, sorted by name (then value),
    /// <c>name=value</c> joined with <c>&amp;</c>; a parameter without a value is <c>name=</c>.
    /// </summary>
    public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join('&', parameters
            .Select(p => (Name: S3UriEncoding.Query(p.Key), Value: S3UriEncoding.Query(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Name + "=" + p.Value));

    /// <summary>
    /// The canonical request. <paramref name="headers"/> are the ones signed (at least <c>host</c>,
    /// <c>x-amz-date</c> and <c>x-amz-content-sha256</c>): names lower-cased, values trimmed with inner runs of spaces
    /// made one, sorted by name.
    /// </summary>
    public static string CanonicalRequest(string method, string canonicalPath, string canonicalQuery,
        IEnumerable<KeyValuePair<string, string>> headers, string payloadHash, out string signedHeaders)
    {
        var canonical = headers
            .Select(h => (Name: h.Key.Trim().ToLowerInvariant(), Value: CollapseSpaces(h.Value.Trim())))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToArray();
        signedHeaders = string.Join(';', canonical.Select(h => h.Name));
        var text = new StringBuilder(256);
        text.Append(method).Append('\n')
            .Append(canonicalPath).Append('\n')
            .Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in canonical)
        {
            text.Append(name).Append(':').Append(value).Append('\n');
        }

        text.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        return text.ToString();
    }

    /// <summary>The string to sign over <paramref name="canonicalRequest"/> at <paramref name="time"/>.</summary>
    public string StringToSign(string canonicalRequest, DateTimeOffset time) =>
        $"{Algorithm}\n{Timestamp(time)}\n{Scope(time)}\n{PayloadHash(Encoding.UTF8.GetBytes(canonicalRequest))}";

    /// <summary>
    /// The <c>Authorization</c> header's value for the request. The caller sends exactly the path, query and headers
    /// given here (<c>x-amz-date</c> = <see cref="Timestamp"/> of <paramref name="time"/>).
    /// </summary>
    public string Authorization(string method, string canonicalPath, string canonicalQuery,
        IEnumerable<KeyValuePair<string, string>> headers, string payloadHash, DateTimeOffset time)
    {
        string request = CanonicalRequest(method, canonicalPath, canonicalQuery, headers, payloadHash, out string signedHeaders);
        string signature = Convert.ToHexStringLower(HMACSHA256.HashData(SigningKey(time), Encoding.UTF8.GetBytes(StringToSign(request, time))));
        return $"{Algorithm} Credential={AccessKey}/{Scope(time)},SignedHeaders={signedHeaders},Signature={signature}";
    }

    private string Scope(DateTimeOffset time) => $"{Day(time)}/{_region}/{_service}/aws4_request";

    private static string Day(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private byte[] SigningKey(DateTimeOffset time)
    {
        string day = Day(time);
        if (_signingKey is { } cached && cached.Day == day)
        {
            return cached.Key;
        }

        byte[] key = HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(day));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(_region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(_service));
        key = HMACSHA256.HashData(key, "aws4_request"u8);
        // One reference assigned: a concurrent reader sees the old day's pair or the new one, never half of each.
        _signingKey = new DayKey(day, key);
        return key;
    }

    private sealed record DayKey(string Day, byte[] Key);

    private static string CollapseSpaces(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal))
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (c != ' ' || text.Length == 0 || text[^1] != ' ')
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }
}
