using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Neutral.Wire;

namespace Neutral.Providers.Aws.Compute;

/// <summary>How to reach Lambda and which function runs the calls.</summary>
/// <param name="Region">The function's region.</param>
/// <param name="Function">The function's name or ARN.</param>
/// <param name="ServiceUrl">The Lambda endpoint; null for <c>https://lambda.{region}.amazonaws.com</c>.</param>
/// <param name="Synchronous">Invoke with <c>RequestResponse</c> (wait for the call) instead of <c>Event</c> (queued).</param>
/// <param name="MaxConcurrency">Invoke requests in flight at most.</param>
public sealed record LambdaSettings(string Region, string Function, Uri? ServiceUrl = null, bool Synchronous = false, int MaxConcurrency = 256)
{
    /// <summary>The endpoint requests go to.</summary>
    public Uri Endpoint => ServiceUrl ?? new Uri($"https://lambda.{Region}.amazonaws.com/");

    /// <inheritdoc/>
    public override string ToString() => $"function {Function} in {Region}";
}

/// <summary>
/// Starts calls as Lambda invocations through the documented REST API (<c>POST
/// /2015-03-31/functions/{name}/invocations</c>), signed with SigV4 by AWSSDK.Core's standalone signer: asynchronous
/// (<c>X-Amz-Invocation-Type: Event</c>, Lambda queues the event and answers 202) by default, completion being the
/// status object in S3. <c>429 TooManyRequestsException</c> is a <see cref="ThrottledException"/>, so the executor
/// backs off without spending a retry; 5xx answers are tried again here; other errors name the function, the region and
/// Lambda's error type (<c>ResourceNotFoundException</c>: deploy first).
/// </summary>
public sealed class LambdaComputeBackend : IComputeBackend
{
    private const int ServerErrorTries = 3;

    private readonly HttpClient _http;
    private readonly Uri _invoke;
    private readonly SemaphoreSlim _inFlight;

    /// <summary>Creates the backend; <paramref name="credentials"/> sign the requests (the SDK's default chain when null).</summary>
    public LambdaComputeBackend(LambdaSettings settings, StoreLocation store, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        Settings = settings;
        Store = store;
        _http = CreateClient(settings, AwsProvider.Resolve(credentials), TimeSpan.FromSeconds(settings.Synchronous ? 900 : 30));
        _invoke = new Uri(settings.Endpoint, $"2015-03-31/functions/{Uri.EscapeDataString(settings.Function)}/invocations");
        _inFlight = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
    }

    /// <summary>The settings.</summary>
    public LambdaSettings Settings { get; }

    /// <inheritdoc/>
    public string Name => "aws";

    /// <inheritdoc/>
    public StoreLocation Store { get; }

    /// <summary>An HTTP client whose every request is signed with SigV4 for Lambda in the settings' region.</summary>
    internal static HttpClient CreateClient(LambdaSettings settings, AWSCredentials credentials, TimeSpan timeout)
    {
        // Redirects stay off below the signer: a redirected hop would go unsigned.
        var transport = new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = Math.Max(16, settings.MaxConcurrency) };
        var signer = new SigV4SigningHandler(credentials, RegionEndpoint.GetBySystemName(settings.Region), "lambda", transport);
        return new HttpClient(signer) { Timeout = timeout };
    }

    /// <inheritdoc/>
    public async ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        byte[] payload = WireJson.Serialize(envelope);
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _invoke) { Content = new ByteArrayContent(payload) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.TryAddWithoutValidation("X-Amz-Invocation-Type", Settings.Synchronous ? "RequestResponse" : "Event");
                using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    if (response.Headers.TryGetValues("X-Amz-Function-Error", out var functionError))
                    {
                        // The function failed outside the call loop (its status was not written): a platform fault, retried.
                        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                        throw new IOException($"Lambda {Settings} failed the invocation ({string.Join(",", functionError)}): {Trim(body)}");
                    }

                    return;
                }

                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                string type = ErrorType(response, text);
                string message = Message(text);
                if ((int)response.StatusCode >= 500 && attempt < ServerErrorTries)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt * attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw response.StatusCode switch
                {
                    HttpStatusCode.TooManyRequests => new ThrottledException($"Lambda throttled the invocation of {Settings}: {type}: {message}", RetryAfter(response), null),
                    HttpStatusCode.NotFound when type == "ResourceNotFoundException" => new InvalidOperationException(
                        $"Lambda has no {Settings} (ResourceNotFoundException): deploy the worker first. {message}"),
                    HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized => new InvalidOperationException(
                        $"Lambda refused the credentials for {Settings} ({type}): {message} Check the AWS credentials (Neutral:Aws:AccessKeyId, or the default chain) and that they may call lambda:InvokeFunction."),
                    _ when (int)response.StatusCode >= 500 => new IOException($"Lambda failed the invocation of {Settings}: HTTP {(int)response.StatusCode} {type}: {message}"),
                    _ => new InvalidOperationException($"Lambda refused the invocation of {Settings}: HTTP {(int)response.StatusCode} {type}: {message}"),
                };
            }
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>Lambda's error type: the <c>x-amzn-ErrorType</c> header (up to a colon), else the body's <c>__type</c> or <c>Type</c>.</summary>
    private static string ErrorType(HttpResponseMessage response, string body)
    {
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            string value = string.Join(",", values);
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 ? value[..colon] : value;
        }

        return Field(body, "__type") ?? "HTTP " + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Message(string body) => Field(body, "message") ?? Field(body, "Message") ?? Trim(body);

    private static string? Field(string body, string name)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    private static string Trim(string text) => text.Length <= 300 ? text : text[..300] + "...";

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        _inFlight.Dispose();
        return ValueTask.CompletedTask;
    }
}
