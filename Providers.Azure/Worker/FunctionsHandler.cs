using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Providers.Azure.Worker;

/// <summary>
/// The worker side on Azure Functions: the application, deployed as a Function App's custom handler, is an HTTP server on
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>. The Functions host posts each invocation to <c>/{functionName}</c> as
/// <c>{"Data": {...}, "Metadata": {...}}</c>: for the queue-triggered <see cref="QueueFunction"/> the queue item (the
/// invocation envelope) is <c>Data.envelope</c>; for the HTTP-triggered <see cref="HttpFunction"/> the request is
/// <c>Data.req</c>, its body the envelope. The handler runs the shared call loop and answers
/// <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": null}</c>; the status object in Blob storage stays the only
/// signal of completion.
/// </summary>
/// <remarks>
/// A queue item that is not an invocation, or a call whose status could not be written, is answered with HTTP 500 (for
/// the HTTP function: a response of 400 or 500 in <c>Outputs.res</c>): the host counts the delivery as failed, and with the deployed <c>maxDequeueCount</c> of 1 moves the message to the
/// poison queue (<c>{queue}-poison</c>) at its next delivery instead of retrying it; the client retries the call itself,
/// timed from storage. One process serves many invocations at once (the host's batch), reusing opened stores.
/// </remarks>
public static class FunctionsHandler
{
    /// <summary>The name under which the handler is registered with <see cref="WorkerRuntimes"/> (<c>NEUTRAL_WORKER=azure</c>).</summary>
    public const string RuntimeName = "azure";

    /// <summary>The queue-triggered function (its folder in the package, and the path the host posts to).</summary>
    public const string QueueFunction = "call";

    /// <summary>The HTTP-triggered function.</summary>
    public const string HttpFunction = "invoke";

    /// <summary>The queue trigger's binding name: the key of the queue item in <c>Data</c>.</summary>
    public const string QueueBinding = "envelope";

    /// <summary>The variable holding the function timeout of <c>host.json</c>, in seconds, set by deployment.</summary>
    public const string TimeoutVariable = "NEUTRAL_FUNCTION_TIMEOUT_SECONDS";

    /// <summary>How long before the host's function timeout a call is stopped, to leave time to write its status.</summary>
    public static readonly TimeSpan DeadlineMargin = TimeSpan.FromSeconds(2);

    /// <summary>Serves the host's invocations on <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> until the process is stopped.</summary>
    public static async Task ServeProcessAsync(CancellationToken cancellationToken = default)
    {
        string port = Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT")
            ?? throw new InvalidOperationException("FUNCTIONS_CUSTOMHANDLER_PORT is not set: this process is not an Azure Functions custom handler.");
        if (RemoteDispatch.Functions.Count == 0)
        {
            throw new InvalidOperationException("The Function App has no [Remote] methods registered: deploy the application's own executable, built with the Neutral generator.");
        }

        TimeSpan? timeout = int.TryParse(Environment.GetEnvironmentVariable(TimeoutVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : null;
        string host = "azure/" + (Environment.GetEnvironmentVariable("WEBSITE_INSTANCE_ID") is { Length: > 0 } instance ? instance[..Math.Min(12, instance.Length)] : Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        // Queue items wait in the queue and may start after their job was cancelled: check first.
        var runner = new CallRunner(ObjectStores.Open, host)
        {
            ChecksJobBeforeStart = true,
            LaunchHandler = CloudLaunch.Handler(ObjectStores.Open, SelfInvoker),
        };
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is 0 or > 65535)
        {
            throw new InvalidOperationException($"FUNCTIONS_CUSTOMHANDLER_PORT is '{port}', not a port number.");
        }

        using var server = new HandlerServer(number);
        Console.WriteLine($"neutral: custom handler listening on port {port}");
        await server.ServeAsync((function, body, token) => HandleAsync(function, body, runner, timeout, TimeProvider.System, token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The backend a launcher call (<c>Job:InvokeFrom=cloud</c>) invokes this Function App through: its own queue (the
    /// app setting <c>NEUTRAL_QUEUE</c>) in the account of its host storage, by the connection string in
    /// <c>AzureWebJobsStorage</c>, or, for identity-based host storage, at <c>AzureWebJobsStorage__queueServiceUri</c>
    /// with the app's identity (which then needs the role Storage Queue Data Message Sender, as the README says).
    /// </summary>
    /// <exception cref="InvalidOperationException">The process is not a Function App with host storage.</exception>
    public static IComputeBackend SelfInvoker()
    {
        static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
        string queue = Variable(Compute.FunctionAppFiles.QueueSetting) ?? Compute.FunctionsSettings.DefaultQueue;
        global::Azure.Storage.Queues.QueueClient client = Variable(AzureProvider.HostStorageVariable) is { } connection
            ? new global::Azure.Storage.Queues.QueueClient(connection, queue, Compute.FunctionsComputeBackend.QueueOptions())
            : Variable(AzureProvider.HostStorageVariable + "__queueServiceUri") is { } service
                ? new global::Azure.Storage.Queues.QueueClient(new Uri(new Uri(service.EndsWith('/') ? service : service + "/"), queue),
                    new global::Azure.Identity.DefaultAzureCredential(), Compute.FunctionsComputeBackend.QueueOptions())
                : throw new InvalidOperationException("Neither AzureWebJobsStorage nor AzureWebJobsStorage__queueServiceUri is set: this process is not a queue-triggered Function App, and cannot invoke itself.");
        return new Compute.FunctionsComputeBackend(new Compute.FunctionsSettings(Variable("WEBSITE_SITE_NAME") ?? "self", queue, MaxConcurrency: 64), client,
            new StoreLocation("none", "none", Cloud.InternalPrefix));
    }

    /// <summary>
    /// Answers one request of the host: <paramref name="function"/> is the path (the function's name),
    /// <paramref name="body"/> the custom-handler payload. Returns the HTTP status and the response payload.
    /// </summary>
    public static async Task<(int Status, byte[] Body)> HandleAsync(string function, byte[] body, CallRunner runner, TimeSpan? timeout, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(time);
        long received = time.GetTimestamp();
        InvocationEnvelope envelope;
        try
        {
            envelope = WireJson.DeserializeEnvelope(EnvelopeOf(function, body));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidDataException or KeyNotFoundException)
        {
            if (function == HttpFunction)
            {
                // An HTTP request answered: 400, and the invocation itself succeeded.
                string bad = $"neutral: {function}: not a Neutral invocation ({e.Message})";
                Console.WriteLine(bad);
                return (200, Reply(function, bad, null, 400));
            }

            string line = $"neutral: {function}: not a Neutral invocation ({e.Message}); the message goes to the poison queue";
            Console.WriteLine(line);
            return (500, Reply(function, line, null));
        }

        if (timeout is { } limit && (envelope.Deadline is null || time.GetUtcNow() + limit - DeadlineMargin < envelope.Deadline))
        {
            // Stop before the host does, so that the status says why: the client retries a platform timeout.
            envelope = envelope with { Deadline = time.GetUtcNow() + limit - DeadlineMargin };
        }

        try
        {
            CallOutcome outcome = await runner.RunAsync(envelope, cancellationToken).ConfigureAwait(false);
            string line = string.Create(CultureInfo.InvariantCulture,
                $"neutral: job {outcome.JobId} call {outcome.CallIndex} attempt {outcome.Attempt}: {(outcome.Succeeded ? "succeeded" : "failed " + outcome.ErrorKind)} in {time.GetElapsedTime(received).TotalMilliseconds:0} ms");
            Console.WriteLine(line);
            return (200, Reply(function, line, outcome.ToJson()));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Storage failed where not even a status could be written: the host records a failed invocation.
            string line = $"neutral: job {envelope.JobId} call {envelope.CallIndex} attempt {envelope.Attempt}: no status written: {e.GetType().FullName}: {e.Message}";
            Console.WriteLine(line);
            return function == HttpFunction ? (200, Reply(function, line, null, 500)) : (500, Reply(function, line, null));
        }
    }

    /// <summary>The envelope's JSON from the payload: the queue item (a string, or the object the host parsed), or the HTTP request's body.</summary>
    private static byte[] EnvelopeOf(string function, byte[] body)
    {
        using JsonDocument payload = JsonDocument.Parse(body);
        JsonElement data = payload.RootElement.GetProperty("Data");
        JsonElement item = function == HttpFunction ? data.GetProperty("req").GetProperty("Body") : data.GetProperty(QueueBinding);
        return item.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(item.GetString()!) : Encoding.UTF8.GetBytes(item.GetRawText());
    }

    /// <summary>The response payload: the log line, and for the HTTP function the <c>res</c> output carrying the outcome.</summary>
    private static byte[] Reply(string function, string log, byte[]? outcome, int failure = 500)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("Outputs");
            if (function == HttpFunction)
            {
                json.WriteStartObject("res");
                json.WriteNumber("statusCode", outcome is null ? failure : 200);
                json.WriteString("body", outcome is null ? log : Encoding.UTF8.GetString(outcome));
                json.WriteStartObject("headers");
                json.WriteString("Content-Type", outcome is null ? "text/plain" : "application/json");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteStartArray("Logs");
            json.WriteStringValue(log);
            json.WriteEndArray();
            json.WriteNull("ReturnValue");
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
