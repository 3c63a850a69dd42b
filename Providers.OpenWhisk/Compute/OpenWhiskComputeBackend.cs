using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;
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
    /// <summary>
    /// Whether the action was deployed with its namespace key (<c>Neutral:OpenWhisk:ProvideApiKey</c>), so that its
    /// launcher calls can invoke it (<c>Job:InvokeFrom=cloud</c>).
    /// </summary>
    public bool ProvideApiKey { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{ApiHost} namespace {Namespace} action {Action}";
}

/// <summary>
/// Starts calls as OpenWhisk activations through the controller's REST API: <c>POST
/// /api/v1/namespaces/{namespace}/actions/{action}?blocking=false</c> with the invocation envelope as the parameters and
/// HTTP Basic authentication with the namespace's key. A <c>429</c> (the namespace's rate or concurrency limit) is a
/// <see cref="ThrottledException"/>, which slows the executor's launches down without costing a retry. Before a job it
/// reads the deployed action's <c>neutral-tables</c> annotation, so a stale action fails the job before any call runs;
/// for an attempt that ends without a status it reads the activation record, whose error (the action's time limit,
/// its memory, an exit) goes into the call's failure message.
/// </summary>
public sealed class OpenWhiskComputeBackend : IDeployedComputeBackend, ISelfInvokingComputeBackend
{
    /// <summary>How long what the action's annotation says is trusted before it is read again.</summary>

    private readonly HttpClient _http;
    private readonly Uri _invoke;
    private readonly Uri _action;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<(int Call, int Attempt), string>> _activations = new(StringComparer.Ordinal);
    private readonly DeployedTables _deployed;

    /// <summary>Creates the backend; <paramref name="store"/> is where the deployed action finds the job store.</summary>
    public OpenWhiskComputeBackend(OpenWhiskSettings settings, StoreLocation store, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        Settings = settings;
        Store = store;
        _deployed = new DeployedTables(time ?? TimeProvider.System);
        _action = new Uri(settings.ApiHost, $"api/v1/namespaces/{Uri.EscapeDataString(settings.Namespace)}/actions/{Uri.EscapeDataString(settings.Action)}?code=false");
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

    /// <summary>
    /// Why launches cannot go out from the action (<c>Job:InvokeFrom=cloud</c>): invoking needs the namespace key, which
    /// Neutral deploys its action without (<c>provide-api-key: false</c>) unless <c>Neutral:OpenWhisk:ProvideApiKey</c>
    /// is true; null then.
    /// </summary>
    public string? SelfInvokeRefusal => Settings.ProvideApiKey ? null
        : "invoking needs the namespace key, which the action is deployed without unless Neutral:OpenWhisk:ProvideApiKey is true (then deploy again: the calls then run in a process that holds the key)";

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
            // 202 {"activationId"} (non-blocking, or blocking past the controller's wait); 200 the whole record (blocking).
            string accepted = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (ActivationIdOf(accepted) is { } id)
            {
                _activations.GetOrAdd(envelope.JobId, static _ => new())[(envelope.CallIndex, envelope.Attempt)] = id;
            }

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

    private static string? ActivationIdOf(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("activationId", out JsonElement id)
                ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Reads the action (<c>GET .../actions/{name}?code=false</c>) and its <c>neutral-tables</c> annotation, kept for a
    /// minute and read again when a function is missing from it or differs. A controller that cannot be reached, or
    /// answers otherwise than 200, 401, 403 or 404, skips the check: the invocations will say what is wrong, and each
    /// worker still refuses a call it was not built for.
    /// </remarks>
    public ValueTask VerifyDeploymentAsync(IReadOnlyCollection<RemoteFunctionInfo> functions, CancellationToken cancellationToken = default) =>
        _deployed.VerifyAsync(functions, ReadTablesAsync, cancellationToken);

    /// <summary>The deployed action's <c>neutral-tables</c>; null when the controller could not say.</summary>
    private async Task<IReadOnlyDictionary<string, string>?> ReadTablesAsync(CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(_action, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    throw new InvalidOperationException($"OpenWhisk has no action '{Settings.Action}' in namespace '{Settings.Namespace}' at {Settings.ApiHost}: deploy the worker first.");
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    throw new InvalidOperationException(
                        $"OpenWhisk refused the key for namespace '{Settings.Namespace}' (HTTP {(int)response.StatusCode}): {ErrorOf(body)}. Check Neutral:OpenWhisk:AuthKey.");
                case HttpStatusCode.OK:
                    break;
                default:
                    return null;
            }

            var tables = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                using JsonDocument action = JsonDocument.Parse(body);
                if (action.RootElement.TryGetProperty("annotations", out JsonElement annotations) && annotations.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement annotation in annotations.EnumerateArray())
                    {
                        if (annotation.TryGetProperty("key", out JsonElement key) && key.GetString() == OpenWhiskDeployer.TablesAnnotation
                            && annotation.TryGetProperty("value", out JsonElement value) && value.ValueKind == JsonValueKind.Object)
                        {
                            foreach (JsonProperty function in value.EnumerateObject())
                            {
                                tables[function.Name] = function.Value.GetString() ?? "";
                            }

                            return tables;
                        }
                    }
                }
            }
            catch (JsonException)
            {
                return null;
            }

            throw new InvalidOperationException(
                $"The OpenWhisk action '{Settings.Action}' in namespace '{Settings.Namespace}' has no '{OpenWhiskDeployer.TablesAnnotation}' annotation: it was not deployed by Neutral. Deploy the worker with OpenWhiskDeployer (see the README, \"Run on your own OpenWhisk\").");
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Reads the attempt's activation record (<c>GET .../activations/{id}</c>): its status and error, as <c>wsk
    /// activation get</c> shows them. The controller answers 404 while the activation waits or runs.
    /// </remarks>
    public async ValueTask<string?> ExplainAttemptAsync(string jobId, int callIndex, int attempt, CancellationToken cancellationToken = default)
    {
        if (!_activations.TryGetValue(jobId, out var attempts) || !attempts.TryGetValue((callIndex, attempt), out string? id))
        {
            return null;
        }

        var url = new Uri(Settings.ApiHost, $"api/v1/namespaces/{Uri.EscapeDataString(Settings.Namespace)}/activations/{Uri.EscapeDataString(id)}");
        using HttpResponseMessage response = await _http.GetAsync(url, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return $"OpenWhisk activation {id} has no record yet (still queued or running)";
        }

        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return DescribeRecord(id, body);
    }

    /// <summary>"OpenWhisk activation {id} ended after {duration} ms: {status}: {error}" from an activation record.</summary>
    internal static string? DescribeRecord(string id, string record)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(record);
            if (!document.RootElement.TryGetProperty("response", out JsonElement response) || response.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string status = response.TryGetProperty("status", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString()!
                : response.TryGetProperty("success", out JsonElement ok) && ok.ValueKind == JsonValueKind.True ? "success" : "failed";
            string? error = response.TryGetProperty("result", out JsonElement result) && result.ValueKind == JsonValueKind.Object
                && result.TryGetProperty("error", out JsonElement e) ? (e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()) : null;
            string duration = document.RootElement.TryGetProperty("duration", out JsonElement d) && d.TryGetInt64(out long ms) ? $" after {ms} ms" : "";
            // The action proxy's own words when exec died (it outlives it): say what that means.
            string hint = error is "command exited"
                ? " (the action's exec exited during or before this activation: killed, out of memory, or crashed at start; the invoker replaces the container, and the worker's own output is in the activation's logs)"
                : "";
            return $"OpenWhisk activation {id} ended{duration}: {status}{(error is null ? "" : ": " + error)}{hint}";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public void ForgetJob(string jobId) => _activations.TryRemove(jobId, out _);

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
