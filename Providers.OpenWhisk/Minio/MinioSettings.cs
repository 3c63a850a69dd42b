namespace Neutral.Providers.OpenWhisk;

/// <summary>How to reach a MinIO (or any S3-compatible) server.</summary>
/// <param name="Endpoint">Host and port, e.g. <c>minio.example.com:9000</c> (no scheme).</param>
/// <param name="AccessKey">The access key.</param>
/// <param name="SecretKey">The secret key (never logged, never put in an envelope).</param>
/// <param name="Secure">Whether to use HTTPS.</param>
/// <param name="Region">The region the server signs for (<c>us-east-1</c> for MinIO and Ceph RGW by default).</param>
public sealed record MinioSettings(string Endpoint, string AccessKey, string SecretKey, bool Secure, string Region = "us-east-1")
{
    /// <inheritdoc/>
    public override string ToString() => $"{(Secure ? "https" : "http")}://{Endpoint} (access key {AccessKey})";
}
