using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Providers.Aws.Worker;

/// <summary>
/// The worker side on Lambda: the application, deployed as a custom runtime's <c>bootstrap</c>
/// (<c>provided.al2023</c>), speaks the Lambda Runtime API at <c>AWS_LAMBDA_RUNTIME_API</c>: <c>GET
/// /2018-06-01/runtime/invocation/next</c> for an event (Neutral's invocation envelope), the shared call loop, then
/// <c>POST .../invocation/{requestId}/response</c> (or <c>/error</c> for an event that is not an invocation), and the
/// next; <c>POST /2018-06-01/runtime/init/error</c> when it cannot start. One process serves many invocations, so
/// opened stores and shared values are reused. A call stops before <c>Lambda-Runtime-Deadline-Ms</c> and records a
/// platform error, which the client retries; output goes to standard output, which Lambda sends to CloudWatch Logs.
/// </summary>
public static class LambdaRuntime
{
    /// <summary>The name under which the loop is registered with <see cref="WorkerRuntimes"/> (<c>NEUTRAL_WORKER=aws</c>).</summary>
    public const string RuntimeName = "aws";

    /// <summary>How long before Lambda's deadline a call is stopped, to leave time to write its status.</summary>
    public static readonly TimeSpan DeadlineMargin = TimeSpan.FromSeconds(1);

    private const string ApiVersion = "2018-06-01";

    /// <summary>Serves the Runtime API at <c>AWS_LAMBDA_RUNTIME_API</c> until the process is stopped.</summary>
    public static async Task ServeProcessAsync(CancellationToken cancellationToken = default)
    {
        string api = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API")
            ?? throw new InvalidOperationException("AWS_LAMBDA_RUNTIME_API is not set: this process is not a Lambda custom runtime.");
        using var http = new HttpClient { BaseAddress = new Uri("http://" + api + "/" + ApiVersion + "/runtime/"), Timeout = Timeout.InfiniteTimeSpan };
        string host = "lambda/" + (Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME") ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (RemoteDispatch.Functions.Count == 0)
        {
            await PostAsync(http, "init/error", ErrorBody("Neutral.NoDispatchTables",
                "The function has no [Remote] methods registered: deploy the application's own executable, built with the Neutral generator."),
                "Runtime.NoDispatchTables", cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException("no dispatch tables; reported to the Runtime API as an init error");
        }

        // Invocations wait in Lambda's queue and may start after their job was cancelled: check first.
        var runner = new CallRunner(ObjectStores.Open, host)
        {
            ChecksJobBeforeStart = true,
            LaunchHandler = CloudLaunch.Handler(ObjectStores.Open, SelfInvoker),
        };
        await ServeAsync(http, runner, TimeProvider.System, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The backend a launcher call (<c>Job:InvokeFrom=cloud</c>) invokes this function through: what Lambda gives a
    /// running function, its name (<c>AWS_LAMBDA_FUNCTION_NAME</c>), region (<c>AWS_REGION</c>) and execution role's
    /// credentials (the SDK's default chain reads them from the environment), and the endpoint in
    /// <c>AWS_ENDPOINT_URL_LAMBDA</c> (or <c>AWS_ENDPOINT_URL</c>) when the function's configuration sets one, as the AWS
    /// SDKs do. Always asynchronous (<c>Event</c>): a launcher never waits for the calls it sends.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process is not a Lambda function.</exception>
    public static IComputeBackend SelfInvoker()
    {
        static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
        string function = Variable("AWS_LAMBDA_FUNCTION_NAME")
            ?? throw new InvalidOperationException("AWS_LAMBDA_FUNCTION_NAME is not set: this process is not a Lambda function, and cannot invoke itself.");
        string region = Variable("AWS_REGION") ?? Variable("AWS_DEFAULT_REGION")
            ?? throw new InvalidOperationException("AWS_REGION is not set: Lambda sets it for every function.");
        Uri? endpoint = (Variable("AWS_ENDPOINT_URL_LAMBDA") ?? Variable("AWS_ENDPOINT_URL")) is { } url ? new Uri(url.EndsWith('/') ? url : url + "/") : null;
        return new Compute.LambdaComputeBackend(new Compute.LambdaSettings(region, function, endpoint, Synchronous: false, MaxConcurrency: 64),
            new StoreLocation("none", "none", Cloud.InternalPrefix));
    }

    /// <summary>Serves invocations from the Runtime API behind <paramref name="http"/> (its base address <c>.../2018-06-01/runtime/</c>).</summary>
    public static async Task ServeAsync(HttpClient http, CallRunner runner, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(time);
        while (!cancellationToken.IsCancellationRequested)
        {
            using HttpResponseMessage next = await http.GetAsync("invocation/next", cancellationToken).ConfigureAwait(false);
            if (!next.IsSuccessStatusCode)
            {
                throw new IOException($"The Runtime API answered the next-invocation request with HTTP {(int)next.StatusCode}.");
            }

            string requestId = Header(next, "Lambda-Runtime-Aws-Request-Id")
                ?? throw new IOException("The Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id.");
            DateTimeOffset? deadline = long.TryParse(Header(next, "Lambda-Runtime-Deadline-Ms"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
            byte[] payload = await next.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);

            InvocationEnvelope envelope;
            try
            {
                envelope = WireJson.DeserializeEnvelope(payload);
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                // An event that is not an invocation: answered as a function error, and the loop goes on.
                await PostAsync(http, $"invocation/{requestId}/error", ErrorBody("Neutral.InvalidEvent", "The event is not a Neutral invocation: " + e.Message),
                    "Neutral.InvalidEvent", cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (deadline is { } due && (envelope.Deadline is null || due - DeadlineMargin < envelope.Deadline))
            {
                // Stop before Lambda does, so that the status says why: the client retries a platform timeout.
                envelope = envelope with { Deadline = due - DeadlineMargin };
            }

            byte[] reply;
            try
            {
                long started = time.GetTimestamp();
                CallOutcome outcome = await runner.RunAsync(envelope, cancellationToken).ConfigureAwait(false);
                reply = outcome.ToJson();
                // One line per call in the function's log (CloudWatch Logs), what a client's "no status" message points to.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"neutral: job {outcome.JobId} call {outcome.CallIndex} attempt {outcome.Attempt}: {(outcome.Succeeded ? "succeeded" : "failed " + outcome.ErrorKind)} in {time.GetElapsedTime(started).TotalMilliseconds:0} ms"));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Storage failed where not even a status could be written: Lambda records a function error.
                await PostAsync(http, $"invocation/{requestId}/error",
                    ErrorBody(e.GetType().FullName!, $"call {envelope.CallIndex} of job {envelope.JobId}, attempt {envelope.Attempt}: {e.Message}"),
                    "Neutral.StatusNotWritten", cancellationToken).ConfigureAwait(false);
                continue;
            }

            await PostAsync(http, $"invocation/{requestId}/response", reply, null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static async Task PostAsync(HttpClient http, string path, byte[] body, string? errorType, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (errorType is not null)
        {
            request.Headers.TryAddWithoutValidation("Lambda-Runtime-Function-Error-Type", errorType);
        }

        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Accepted && !response.IsSuccessStatusCode)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new IOException($"The Runtime API refused POST {path}: HTTP {(int)response.StatusCode} {text}");
        }
    }

    /// <summary>The Runtime API's error document: <c>{"errorMessage", "errorType", "stackTrace": []}</c>.</summary>
    internal static byte[] ErrorBody(string type, string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("errorMessage", message);
            json.WriteString("errorType", type);
            json.WriteStartArray("stackTrace");
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
