using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Tasks;
using Neutral.Providers.OpenWhisk.Compute;
using Microsoft.Extensions.Configuration;
using Neutral.Wire;
using StoreLocation = Neutral.Wire.StoreLocation;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// A controller behind a self-signed certificate, as self-hosted clusters often are: refused unless
/// <c>AcceptSelfSignedCertificate</c> says otherwise.
/// </summary>
public sealed class SelfSignedTlsTests
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";

    /// <summary>An HTTPS server on 127.0.0.1 with a fresh self-signed certificate, answering every request 202 {"activationId"}.</summary>
    private sealed class SelfSignedServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly X509Certificate2 _certificate;

        public SelfSignedServer()
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public Uri Address => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

        public int Served { get; private set; }

        private async Task ServeAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    using (var tls = new SslStream(client.GetStream()))
                    {
                        try
                        {
                            await tls.AuthenticateAsServerAsync(_certificate);
                            using var reader = new StreamReader(tls, Encoding.ASCII, leaveOpen: true);
                            // Under TLS 1.3 the server's handshake ends before the client has judged the certificate:
                            // only a request that arrives counts.
                            if (await reader.ReadLineAsync() is not { } requestLine || !requestLine.StartsWith("POST ", StringComparison.Ordinal))
                            {
                                return;
                            }

                            int length = 0;
                            while (await reader.ReadLineAsync() is { Length: > 0 } line)
                            {
                                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                                {
                                    length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                                }
                            }

                            var body = new char[length];
                            await reader.ReadBlockAsync(body, 0, length);
                            const string Answer = """{"activationId":"0123456789abcdef"}""";
                            byte[] response = Encoding.ASCII.GetBytes($"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {Answer.Length}\r\nConnection: close\r\n\r\n{Answer}");
                            Served++; // before answering: the client may return the moment the answer lands
                            await tls.WriteAsync(response);
                        }
                        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                        {
                            // The client refused the certificate.
                        }
                    }
                });
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _certificate.Dispose();
        }
    }

    private static InvocationEnvelope Envelope(StoreLocation store) =>
        new() { JobId = "j", CallIndex = 0, FunctionId = "f", SignatureHash = InvocationEnvelope.FormatHash(1), Attempt = 1, Store = store };

    [Fact]
    public async Task A_self_signed_controller_is_refused_by_default_and_reached_with_the_explicit_option()
    {
        using var server = new SelfSignedServer();
        var store = new StoreLocation(OpenWhiskProvider.StoreKind, "http://127.0.0.1:7480/b", Cloud.InternalPrefix);

        await using (var strict = new OpenWhiskComputeBackend(new OpenWhiskSettings(server.Address, "_", "neutral", Key), store))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => strict.InvokeAsync(Envelope(store)).AsTask());
            Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        }

        Assert.Equal(0, server.Served);
        await using (var trusting = new OpenWhiskComputeBackend(new OpenWhiskSettings(server.Address, "_", "neutral", Key, AcceptSelfSignedCertificate: true), store))
        {
            await trusting.InvokeAsync(Envelope(store));
        }

        Assert.Equal(1, server.Served);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    public void The_option_is_off_unless_configured(string? value, bool expected)
    {
        var values = new System.Collections.Generic.Dictionary<string, string?> { ["OpenWhisk:ApiHost"] = "https://openwhisk.example.com", ["OpenWhisk:AuthKey"] = Key };
        if (value is not null)
        {
            values["OpenWhisk:AcceptSelfSignedCertificate"] = value;
        }

        var neutral = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        Assert.Equal(expected, OpenWhiskSection.Read(neutral).Settings.AcceptSelfSignedCertificate);
    }
}
