using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
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
        var runner = new CallRunner(ObjectStores.Open, host) { ChecksJobBeforeStart = true };
        using HttpListener listener = StartListener(port);
        Console.WriteLine($"neutral: custom handler listening on port {port}");
        using CancellationTokenRegistration stop = cancellationToken.Register(listener.Stop);
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => ServeRequestAsync(context, runner, timeout, TimeProvider.System, cancellationToken), CancellationToken.None);
        }
    }

    /// <summary>How many times <see cref="StartListener"/> tries to start the listener.</summary>
    internal const int ListenerStartTries = 20;

    /// <summary>Starts the HTTP listener on <paramref name="port"/> of the loopback interface.</summary>
    /// <remarks>
    /// The managed <see cref="HttpListener"/> of Linux and macOS fails at <see cref="HttpListener.Start"/> with an
    /// <see cref="ArgumentNullException"/> when a connection arrives while it starts (dotnet/corefx#35191: it accepts
    /// before it has made the lock the accept takes), and the Functions host connects to the port just then, to learn
    /// when the handler is up. The failed listener's socket stays bound but unreachable: a collection closes it, and the
    /// next start takes the port, but a connection the failed listener took is lost, so the listener is first warmed up
/// (<see cref="WarmUpListener"/>) to make that window short. Any other failure, or this one
/// <see cref="ListenerStartTries"/> times, ends the process.
    /// </remarks>
    internal static HttpListener StartListener(string port)
    {
        WarmUpListener();
        for (int attempt = 1; ; attempt++)
        {
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Prefixes.Add($"http://localhost:{port}/");
            try
            {
                listener.Start();
                return listener;
            }
            catch (Exception e) when (attempt < ListenerStartTries && (e is ArgumentNullException || (e is HttpListenerException && attempt > 1)))
            {
                // The race, or (after it) the port still held by the failed listener's socket until it is collected.
                listener.Close();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Thread.Sleep(attempt * 5);
            }
        }
    }

    /// <summary>
    /// Starts and closes a listener on a free port: in a fresh process, compiling the accept path at the first start
    /// stretches the window between listening and accepting to milliseconds, and a connection in it breaks the start.
    /// Warm, the window is microseconds. (A connection that lands in the window anyway is lost with the failed listener.)
    /// </summary>
    private static void WarmUpListener()
    {
        try
        {
            var free = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            free.Start();
            int port = ((IPEndPoint)free.LocalEndpoint).Port;
            free.Stop();
            using var listener = new HttpListener();
            listener.Prefixes.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
            listener.Start();
        }
        catch (Exception e) when (e is HttpListenerException or System.Net.Sockets.SocketException or ArgumentNullException)
        {
            // The port was taken meanwhile, or a stray connection came: the real start does not depend on this one.
        }
    }

    private static async Task ServeRequestAsync(HttpListenerContext context, CallRunner runner, TimeSpan? timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await context.Request.InputStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            body = buffer.ToArray();
        }

        string function = context.Request.Url?.AbsolutePath.Trim('/') ?? "";
        (int status, byte[] reply) = await HandleAsync(function, body, runner, timeout, time, cancellationToken).ConfigureAwait(false);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = reply.Length;
        await context.Response.OutputStream.WriteAsync(reply, cancellationToken).ConfigureAwait(false);
        context.Response.Close();
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
