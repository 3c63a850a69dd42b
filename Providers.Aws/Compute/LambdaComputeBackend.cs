using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Neutral.Dispatch;
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
public sealed class LambdaComputeBackend : IDeployedComputeBackend, IPricedComputeBackend, ISelfInvokingComputeBackend
{
    private const int ServerErrorTries = 3;

    private readonly HttpClient _http;
    private readonly Uri _invoke;
    private readonly SemaphoreSlim _inFlight;

    private readonly IObjectStore? _tablesStore;
    private readonly Uri _configuration;
    private readonly DeployedTables _deployed;
    private int _memoryMb;
    private (string Digest, IReadOnlyDictionary<string, string> Tables)? _lastTables;

    /// <summary>
    /// Creates the backend; <paramref name="credentials"/> sign the requests (the SDK's default chain when null).
    /// <paramref name="tablesStore"/> is the bucket where a deployment keeps its tables (see
    /// <see cref="LambdaDeployer"/>); without it a stale function is only told at its first call.
    /// </summary>
    public LambdaComputeBackend(LambdaSettings settings, StoreLocation store, AWSCredentials? credentials = null, IObjectStore? tablesStore = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        Settings = settings;
        Store = store;
        _tablesStore = tablesStore;
        _deployed = new DeployedTables(time ?? TimeProvider.System);
        _configuration = new Uri(settings.Endpoint, $"2015-03-31/functions/{Uri.EscapeDataString(settings.Function)}/configuration");
        _http = CreateClient(settings, AwsProvider.Resolve(credentials), TimeSpan.FromSeconds(settings.Synchronous ? 900 : 30));
        _invoke = new Uri(settings.Endpoint, $"2015-03-31/functions/{Uri.EscapeDataString(settings.Function)}/invocations");
        _inFlight = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
    }

    /// <summary>The settings.</summary>
    public LambdaSettings Settings { get; }

    /// <inheritdoc/>
    public string Name => "aws";

    /// <summary>Always null: a Lambda function invokes itself with its execution role (which then needs <c>lambda:InvokeFunction</c> on itself).</summary>
    public string? SelfInvokeRefusal => null;

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
                using HttpResponseMessage response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    return;
                }

                if (response.IsSuccessStatusCode)
                {
                    // The call ran and this is how it ended (RequestResponse, or an endpoint that ignores Event, as
                    // AWS's Runtime Interface Emulator does).
                    string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    if (response.Headers.TryGetValues("X-Amz-Function-Error", out var functionError))
                    {
                        // The function failed outside the call loop (its status was not written): a platform fault, retried.
                        throw new IOException($"Lambda {Settings} failed the invocation ({string.Join(",", functionError)}): {LambdaErrors.Trim(body)}");
                    }

                    // An empty answer says nothing either way (an endpoint that acknowledges Event with 200): the status decides.
                    if (body.Length > 0 && !IsRuntimeAnswer(body, envelope))
                    {
                        // Not the runtime's answer: the platform ended the call (the RIE's "Task timed out after 5.00
                        // seconds" comes as a plain 200). Told now rather than at the client's own deadline.
                        throw new IOException($"Lambda {Settings} ended the invocation without Neutral's answer: {LambdaErrors.Trim(body)}");
                    }

                    return;
                }

                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                string type = LambdaErrors.Type(response, text);
                string message = LambdaErrors.Message(text);
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

    /// <summary>Sends <paramref name="request"/>; a connection that cannot be made names the endpoint and what to check.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
        {
            // The same error kind, so the executor backs off and sends the attempt again.
            string where = Settings.ServiceUrl is null
                ? "check Neutral:Aws:Region and the network"
                : "check Neutral:Aws:LambdaServiceUrl and that the endpoint is up (AWS's Runtime Interface Emulator serves one invocation at a time and stops on an overlapping one: against it set Neutral:Aws:MaxConcurrency=1 and Neutral:Aws:InvocationType=RequestResponse)";
            throw new HttpRequestException(e.HttpRequestError, $"Could not connect to Lambda at {Settings.Endpoint} for {Settings}: {e.Message}; {where}.", e);
        }
    }

    /// <summary>Whether <paramref name="body"/> is the runtime's answer for <paramref name="envelope"/> (<c>{"job", "call", "attempt", ...}</c>).</summary>
    internal static bool IsRuntimeAnswer(string body, InvocationEnvelope envelope)
    {
        try
        {
            using JsonDocument answer = JsonDocument.Parse(body);
            JsonElement root = answer.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("job", out JsonElement job) && job.ValueKind == JsonValueKind.String && job.ValueEquals(envelope.JobId)
                && root.TryGetProperty("call", out JsonElement call) && call.TryGetInt32(out int index) && index == envelope.CallIndex;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Reads the function's configuration (<c>lambda:GetFunctionConfiguration</c>): no function means "deploy first",
    /// one without <see cref="LambdaDeployer.TablesVariable"/> was not deployed by Neutral; the digest it names leads to
    /// the tables in the bucket. Where Lambda or the bucket cannot answer (no permission to read the configuration,
    /// tables written to another bucket) the check is skipped and the worker's own per-call check remains.
    /// </remarks>
    public ValueTask VerifyDeploymentAsync(IReadOnlyCollection<RemoteFunctionInfo> functions, CancellationToken cancellationToken = default) =>
        _deployed.VerifyAsync(functions, ReadTablesAsync, cancellationToken);

    private async Task<IReadOnlyDictionary<string, string>?> ReadTablesAsync(CancellationToken cancellationToken)
    {
        string body;
        HttpStatusCode status;
        string type;
        try
        {
            using HttpResponseMessage response = await _http.GetAsync(_configuration, cancellationToken).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            type = LambdaErrors.Type(response, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        switch (status)
        {
            case HttpStatusCode.NotFound when type == "ResourceNotFoundException":
                throw new InvalidOperationException($"Lambda has no {Settings} (ResourceNotFoundException): deploy the worker first.");
            case HttpStatusCode.OK:
                break;
            default:
                // No permission to read the configuration, or Lambda busy: the per-call check remains.
                return null;
        }

        string? digest;
        try
        {
            using JsonDocument configuration = JsonDocument.Parse(body);
            if (configuration.RootElement.TryGetProperty("MemorySize", out JsonElement memory) && memory.TryGetInt32(out int mb))
            {
                _memoryMb = mb;
            }

            digest = configuration.RootElement.TryGetProperty("Environment", out JsonElement environment)
                && environment.ValueKind == JsonValueKind.Object
                && environment.TryGetProperty("Variables", out JsonElement variables) && variables.ValueKind == JsonValueKind.Object
                && variables.TryGetProperty(LambdaDeployer.TablesVariable, out JsonElement value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }

        if (digest is null)
        {
            throw new InvalidOperationException(
                $"Lambda's {Settings} was not deployed by Neutral (it has no {LambdaDeployer.TablesVariable} variable): deploy the application with NEUTRAL_WORKER=aws-deploy (see the README), or set Neutral:Aws:Function to the function that was.");
        }

        if (_tablesStore is null || !digest.All(char.IsAsciiHexDigitLower) || digest.Length != 64)
        {
            return null;
        }

        // The tables of a digest never change: read from the bucket once per deployment, not at every check.
        if (_lastTables is { } last && last.Digest == digest)
        {
            return last.Tables;
        }

        byte[]? text = await _tablesStore.GetAsync(LambdaDeployer.TablesKey(digest), cancellationToken).ConfigureAwait(false);
        Dictionary<string, string>? tables = text is null ? null : LambdaDeployer.ParseTables(Encoding.UTF8.GetString(text));
        if (tables is not null)
        {
            _lastTables = (digest, tables);
        }

        return tables;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Lambda keeps no record of an asynchronous invocation that an API can read; its log can: the runtime writes one
    /// line per call (job, call, attempt) to CloudWatch Logs, beside Lambda's own <c>REPORT</c> line (duration, memory,
    /// and "Status: timeout" or an out-of-memory error).
    /// </remarks>
    public ValueTask<string?> ExplainAttemptAsync(string jobId, int callIndex, int attempt, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<string?>(
            $"Lambda keeps no record of an asynchronous invocation that can be read back; look in CloudWatch Logs, group /aws/lambda/{Settings.Function} in {Settings.Region}, for \"job {jobId} call {callIndex} attempt {attempt}\" and the REPORT line after it");

    /// <inheritdoc/>
    public void ForgetJob(string jobId)
    {
    }

    /// <summary>The prices <see cref="EstimateCost"/> uses.</summary>
    public LambdaPrices Prices { get; init; } = new();

    /// <inheritdoc/>
    /// <remarks>
    /// At the function's memory as its configuration said when the job was checked (else
    /// <see cref="LambdaFunctionSettings.DefaultMemoryMb"/>) and <see cref="Prices"/>.
    /// </remarks>
    public decimal EstimateCost(JobUsage usage) =>
        Prices.Estimate(usage, Volatile.Read(ref _memoryMb) is > 0 and var mb ? mb : LambdaFunctionSettings.DefaultMemoryMb);

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        _inFlight.Dispose();
        return ValueTask.CompletedTask;
    }
}
