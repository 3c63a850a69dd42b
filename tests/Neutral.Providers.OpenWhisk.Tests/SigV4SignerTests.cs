using System;
using System.Collections.Generic;
using System.Text;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// The signer against the examples of AWS's documentation of S3 header-based Signature Version 4 authentication
/// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html): the documented example key, time and
/// requests, and the signatures the page gives for them.
/// </summary>
public sealed class SigV4SignerTests
{
    // AWS's documented example credentials: public, they sign nothing real.
    private const string AccessKey = "AKIAIOSFODNN7EXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private const string Host = "examplebucket.s3.amazonaws.com";
    private static readonly DateTimeOffset Time = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

    private static readonly SigV4Signer Signer = new(AccessKey, SecretKey, "us-east-1");

    private static KeyValuePair<string, string>[] Headers(string payloadHash, params (string Name, string Value)[] more)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new("Host", Host),
            new("x-amz-date", SigV4Signer.Timestamp(Time)),
            new("x-amz-content-sha256", payloadHash),
        };
        foreach (var (name, value) in more)
        {
            headers.Add(new(name, value));
        }

        return [.. headers];
    }

    [Fact]
    public void The_documented_GET_object_example_has_the_documented_canonical_request_string_to_sign_and_signature()
    {
        var headers = Headers(SigV4Signer.EmptyPayloadHash, ("Range", "bytes=0-9"));

        string canonical = SigV4Signer.CanonicalRequest("GET", "/test.txt", "", headers, SigV4Signer.EmptyPayloadHash, out string signed);
        Assert.Equal(
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            + "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\n"
            + "host;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            canonical);
        Assert.Equal("host;range;x-amz-content-sha256;x-amz-date", signed);
        Assert.Equal(
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            Signer.StringToSign(canonical, Time));
        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            Signer.Authorization("GET", "/test.txt", "", headers, SigV4Signer.EmptyPayloadHash, Time));
    }

    [Fact]
    public void The_documented_PUT_object_example_encodes_the_key_and_hashes_the_payload()
    {
        string payloadHash = SigV4Signer.PayloadHash(Encoding.UTF8.GetBytes("Welcome to Amazon S3."));
        Assert.Equal("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", payloadHash);
        string path = "/" + S3UriEncoding.Path("test$file.text");
        Assert.Equal("/test%24file.text", path);

        string authorization = Signer.Authorization("PUT", path, "",
            Headers(payloadHash, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")), payloadHash, Time);
        Assert.EndsWith(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void The_documented_GET_bucket_lifecycle_example_signs_a_parameter_without_a_value()
    {
        string query = SigV4Signer.CanonicalQuery([new("lifecycle", "")]);
        Assert.Equal("lifecycle=", query);
        Assert.EndsWith("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            Signer.Authorization("GET", "/", query, Headers(SigV4Signer.EmptyPayloadHash), SigV4Signer.EmptyPayloadHash, Time), StringComparison.Ordinal);
    }

    [Fact]
    public void The_documented_list_objects_example_sorts_the_query_parameters()
    {
        string query = SigV4Signer.CanonicalQuery([new("prefix", "J"), new("max-keys", "2")]);
        Assert.Equal("max-keys=2&prefix=J", query);
        Assert.EndsWith("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            Signer.Authorization("GET", "/", query, Headers(SigV4Signer.EmptyPayloadHash), SigV4Signer.EmptyPayloadHash, Time), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data/part-0001.txt", "data/part-0001.txt", "data%2Fpart-0001.txt")]
    [InlineData("a b+c=d&e", "a%20b%2Bc%3Dd%26e", "a%20b%2Bc%3Dd%26e")]
    [InlineData("Ünï/çødé~_-.", "%C3%9Cn%C3%AF/%C3%A7%C3%B8d%C3%A9~_-.", "%C3%9Cn%C3%AF%2F%C3%A7%C3%B8d%C3%A9~_-.")]
    [InlineData("100%/*?#", "100%25/%2A%3F%23", "100%25%2F%2A%3F%23")]
    public void Keys_are_encoded_byte_by_byte_keeping_only_unreserved_characters_and_the_path_slash(string key, string path, string query)
    {
        Assert.Equal(path, S3UriEncoding.Path(key));
        Assert.Equal(query, S3UriEncoding.Query(key));
    }

    [Fact]
    public void Header_values_are_trimmed_and_inner_runs_of_spaces_made_one()
    {
        string canonical = SigV4Signer.CanonicalRequest("GET", "/", "", [new("X-Amz-Meta-Note", "  a   b  c "), new("Host", "h")], SigV4Signer.EmptyPayloadHash, out string signed);
        Assert.Contains("\nhost:h\nx-amz-meta-note:a b c\n", canonical, StringComparison.Ordinal);
        Assert.Equal("host;x-amz-meta-note", signed);
    }

    [Fact]
    public void The_secret_key_appears_in_no_header()
    {
        string authorization = Signer.Authorization("GET", "/", "", Headers(SigV4Signer.EmptyPayloadHash), SigV4Signer.EmptyPayloadHash, Time);
        Assert.DoesNotContain(SecretKey, authorization, StringComparison.Ordinal);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,", authorization, StringComparison.Ordinal);
    }
}
