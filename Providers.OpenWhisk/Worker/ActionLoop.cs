using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Providers.OpenWhisk.Worker;

/// <summary>
/// The worker side on OpenWhisk: the application, deployed as a native action's <c>exec</c>, speaks the action loop
/// protocol of OpenWhisk's action proxy. When <c>__OW_WAIT_FOR_ACK</c> is set it first writes <c>{"ok":true}</c> and a
/// newline to file descriptor 3; then, for each activation, it reads one JSON line from standard input
/// (<c>{"value": {...}, "activation_id": ..., "deadline": ...}</c>, the value being Neutral's invocation envelope), runs
/// the call through the shared call loop, and writes exactly one JSON object line to file descriptor 3. Standard
/// output and error are the activation's logs; a line left open by an activation is ended before its result, so that
/// the proxy's end-of-activation guard line stays on a line of its own. It depends on no environment variable but its
/// own and <c>__OW_WAIT_FOR_ACK</c> (the action proxy starts it with almost none), nor on its working directory (the
/// proxy's, not the action's folder). The namespace key a cluster may pass (<c>api_key</c> in each activation,
/// <c>__OW_API_KEY</c> in the environment, when the action lacks <c>provide-api-key: false</c>) is removed from the
/// environment at start, so that the user's code and its child processes cannot read it there; it is kept in memory
/// only for launcher calls (<c>Job:InvokeFrom=cloud</c>), which an action deployed without
/// <c>Neutral:OpenWhisk:ProvideApiKey</c> never gets a key for.
/// </summary>
public static class ActionLoop
{
    /// <summary>The name under which the loop is registered with <see cref="WorkerRuntimes"/> (<c>NEUTRAL_WORKER=openwhisk</c>).</summary>
    public const string RuntimeName = "openwhisk";

    /// <summary>Serves activations over this process's standard input and file descriptor 3 until the input ends.</summary>
    public static async Task ServeProcessAsync(CancellationToken cancellationToken = default)
    {
        // An action deployed by other means than OpenWhiskDeployer (which annotates provide-api-key: false) gets the
        // namespace key in its environment: no call needs it, so none sees it.
        // Kept in memory for launcher calls (Job:InvokeFrom=cloud) when the action was deployed with it.
        s_self.Key = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } given ? given : null;
        Environment.SetEnvironmentVariable(ApiKeyVariable, null);
        var output = new LineEndingWriter(Console.Out);
        var error = new LineEndingWriter(Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        using var results = new FileStream(new SafeFileHandle(3, ownsHandle: false), FileAccess.Write, bufferSize: 1);
        Stream input = Console.OpenStandardInput();
        // The action's own console output goes to the activation's log (standard output), never to the results.
        // Activations wait in OpenWhisk's queue, and may start after their job was cancelled: check first.
        var runner = new CallRunner(ObjectStores.Open, "openwhisk/" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            ChecksJobBeforeStart = true,
            LaunchHandler = CloudLaunch.Handler(ObjectStores.Open, SelfInvoker),
        };
        bool ack = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("__OW_WAIT_FOR_ACK"));
        await ServeAsync(input, results, runner, ack, () =>
        {
            output.EndLine();
            error.EndLine();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The variable in which OpenWhisk's invoker passes the namespace key to an action not annotated otherwise.</summary>
    internal const string ApiKeyVariable = "__OW_API_KEY";

    /// <summary>Set to 1 by deployment when the client accepts the controller's self-signed certificate: launcher calls do too.</summary>
    internal const string AcceptSelfSignedVariable = "NEUTRAL_OPENWHISK_ACCEPT_SELF_SIGNED";

    /// <summary>What the activations say of the action itself (its key when provided, namespace and name), for launcher calls.</summary>
    private sealed class Self
    {
        public volatile string? Key;
        public volatile string? Namespace;
        public volatile string? ActionName;
    }

    private static readonly Self s_self = new();

    /// <summary>
    /// The backend a launcher call (<c>Job:InvokeFrom=cloud</c>) invokes this action through: the controller at
    /// <c>__OW_API_HOST</c>, with the namespace key the invoker passes an action deployed with <c>provide-api-key</c>
    /// (kept in memory, never in the environment), the namespace and the action's name from the activation.
    /// </summary>
    /// <exception cref="InvalidOperationException">The action has no key (deployed without it) or no API host.</exception>
    public static IComputeBackend SelfInvoker()
    {
        string host = Environment.GetEnvironmentVariable("__OW_API_HOST") is { Length: > 0 } h ? h
            : throw new InvalidOperationException("__OW_API_HOST is not set: this process is not an OpenWhisk action, and cannot invoke itself.");
        string key = s_self.Key
            ?? throw new InvalidOperationException("the action was deployed without its namespace key: set Neutral:OpenWhisk:ProvideApiKey=true and deploy it again to launch from the cloud.");
        string full = s_self.ActionName ?? throw new InvalidOperationException("no activation has said the action's name yet.");
        // "/namespace/name" or "/namespace/package/name": the name is what follows the namespace.
        string[] parts = full.Trim('/').Split('/', 2);
        string ns = s_self.Namespace ?? parts[0];
        string action = parts.Length == 2 ? parts[1] : parts[0];
        var settings = new Compute.OpenWhiskSettings(new Uri(host.EndsWith('/') ? host : host + "/"), ns, action, key,
            AcceptSelfSignedCertificate: Environment.GetEnvironmentVariable(AcceptSelfSignedVariable) == "1");
        return new Compute.OpenWhiskComputeBackend(settings, new StoreLocation("none", "none", Cloud.InternalPrefix));
    }

    /// <summary>Notes what an activation says of the action (its key, namespace and name), for <see cref="SelfInvoker"/>.</summary>
    private static void NoteSelf(JsonElement activation)
    {
        if (activation.TryGetProperty("api_key", out JsonElement key) && key.ValueKind == JsonValueKind.String && key.GetString() is { Length: > 0 } k)
        {
            s_self.Key = k;
        }

        if (activation.TryGetProperty("namespace", out JsonElement ns) && ns.ValueKind == JsonValueKind.String)
        {
            s_self.Namespace = ns.GetString();
        }

        if (activation.TryGetProperty("action_name", out JsonElement name) && name.ValueKind == JsonValueKind.String)
        {
            s_self.ActionName = name.GetString();
        }
    }

    /// <summary>Serves activations read as lines from <paramref name="input"/>, one result line each to <paramref name="results"/>.</summary>
    public static Task ServeAsync(Stream input, Stream results, CallRunner runner, bool acknowledge, CancellationToken cancellationToken = default) =>
        ServeAsync(input, results, runner, acknowledge, endOfActivation: null, cancellationToken);

    /// <summary>As the public overload; <paramref name="endOfActivation"/> runs after each activation, before its result is written.</summary>
    internal static async Task ServeAsync(Stream input, Stream results, CallRunner runner, bool acknowledge, Action? endOfActivation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(runner);
        if (acknowledge)
        {
            await WriteLineAsync(results, "{\"ok\":true}", cancellationToken).ConfigureAwait(false);
        }

        using var reader = new StreamReader(input, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            // Only "value" is read: the rest (activation_id, deadline, api_key, ...) is the platform's.
            string reply = await RunOneAsync(line, runner, cancellationToken).ConfigureAwait(false);
            // The logs first: the proxy writes its guard line as soon as it has the result.
            endOfActivation?.Invoke();
            await WriteLineAsync(results, reply, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one activation; every failure becomes an <c>{"error": ...}</c> object, never a crash.</summary>
    internal static async Task<string> RunOneAsync(string line, CallRunner runner, CancellationToken cancellationToken)
    {
        InvocationEnvelope envelope;
        try
        {
            using JsonDocument activation = JsonDocument.Parse(line);
            if (activation.RootElement.ValueKind != JsonValueKind.Object || !activation.RootElement.TryGetProperty("value", out JsonElement value))
            {
                return Error("the activation is not a JSON object with a \"value\"");
            }

            envelope = WireJson.DeserializeEnvelope(Encoding.UTF8.GetBytes(value.GetRawText()));
            NoteSelf(activation.RootElement);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return Error("the activation is not a Neutral invocation: " + e.Message);
        }

        try
        {
            CallOutcome outcome = await runner.RunAsync(envelope, cancellationToken).ConfigureAwait(false);
            return Encoding.UTF8.GetString(outcome.ToJson());
        }
        catch (Exception e)
        {
            // Storage failed where not even a status could be written: the platform records the activation as failed.
            return Error($"call {envelope.CallIndex} of job {envelope.JobId}, attempt {envelope.Attempt}: {e.GetType().FullName}: {e.Message}");
        }
    }

    private static string Error(string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("error", message);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static async Task WriteLineAsync(Stream results, string line, CancellationToken cancellationToken)
    {
        // One write per line: the action proxy reads up to the newline.
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
        await results.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await results.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
