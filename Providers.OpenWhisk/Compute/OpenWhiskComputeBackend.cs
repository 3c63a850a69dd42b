using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Providers.OpenWhisk.Compute;

/// <summary>How to reach an OpenWhisk deployment and which action runs the calls.</summary>
/// <param name="ApiHost">The controller's address, e.g. <c>https://openwhisk.example.com</c>.</param>
/// <param name="Namespace">The namespace (<c>_</c>: the one the key belongs to).</param>
/// <param name="Action">The action the worker is deployed as.</param>
/// <param name="AuthKey">The namespace's key, <c>uuid:key</c> (never logged).</param>
/// <param name="AcceptSelfSignedCertificate">Accept any TLS certificate (common on self-hosted clusters). Off by default.</param>
/// <param name="Blocking">Invoke with <c>blocking=true</c> (the controller holds the request until the activation ends, or 60 s).</param>
public sealed record OpenWhiskSettings(Uri ApiHost, string Namespace, string Action, string AuthKey, bool AcceptSelfSignedCertificate = false, bool Blocking = false)
{
    /// <inheritdoc/>
    public override string ToString() => $"{ApiHost} namespace {Namespace} action {Action}";
}

/// <summary>
/// Starts calls as OpenWhisk activations through the controller's REST API: <c>POST
/// /api/v1/namespaces/{namespace}/actions/{action}?blocking=false</c> with the invocation envelope as the parameters and
/// HTTP Basic authentication with the namespace's key. A <c>429</c> (the namespace's rate or concurrency limit) is a
/// <see cref="ThrottledException"/>, which slows the executor's launches down without costing a retry.
/// </summary>
public sealed class OpenWhiskComputeBackend : IComputeBackend
{
    private readonly HttpClient _http;
    private readonly Uri _invoke;

    /// <summary>Creates the backend; <paramref name="store"/> is where the deployed action finds the job store.</summary>
    public OpenWhiskComputeBackend(OpenWhiskSettings settings, StoreLocation store)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        Settings = settings;
        Store = store;
        _http = CreateClient(settings, TimeSpan.FromSeconds(settings.Blocking ? 90 : 30));
        _invoke = new Uri(settings.ApiHost, $"api/v1/namespaces/{Uri.EscapeDataString(settings.Namespace)}/actions/{Uri.EscapeDataString(settings.Action)}?blocking={(settings.Blocking ? "true" : "false")}");
    }

    /// <summary>The settings.</summary>
    public OpenWhiskSettings Settings { get; }

    /// <summary>An HTTP client for the controller: Basic auth with the namespace's key, and the self-signed opt-in.</summary>
    internal static HttpClient CreateClient(OpenWhiskSettings settings, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 256 };
        if (settings.AcceptSelfSignedCertificate)
        {
#pragma warning disable CA5359 // Opt-in, off by default, named for what it does: self-hosted clusters often have self-signed certificates.
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        var http = new HttpClient(handler) { Timeout = timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(settings.AuthKey)));
        return http;
    }

    /// <inheritdoc/>
    public string Name => "openwhisk";

    /// <inheritdoc/>
    public StoreLocation Store { get; }

    /// <inheritdoc/>
    public async ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        using var content = new ByteArrayContent(WireJson.Serialize(envelope));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await _http.PostAsync(_invoke, content, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string reason = ErrorOf(body);
        throw response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => new ThrottledException($"OpenWhisk throttled the invocation of {Settings.Action}: {reason}", RetryAfter(response), null),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new InvalidOperationException(
                $"OpenWhisk refused the key for namespace '{Settings.Namespace}' (HTTP {(int)response.StatusCode}): {reason}. Check Neutral:OpenWhisk:AuthKey."),
            HttpStatusCode.NotFound => new InvalidOperationException(
                $"OpenWhisk has no action '{Settings.Action}' in namespace '{Settings.Namespace}' (HTTP 404): deploy the worker first. {reason}"),
            _ => new IOException($"OpenWhisk failed the invocation of {Settings.Action}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}. {reason}"),
        };
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta
        ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    /// <summary>The controller's <c>{"error": "...", "code": "..."}</c>, or the body as it is.</summary>
    private static string ErrorOf(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out JsonElement error))
            {
                return error.ToString();
            }
        }
        catch (JsonException)
        {
        }

        return body.Length <= 300 ? body : body[..300] + "...";
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
