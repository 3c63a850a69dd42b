using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using Neutral.Providers.Azure.Worker;

namespace Neutral.Providers.Azure.Compute;

/// <summary>How the Function App runs the handler: its timeout and how many queue items one instance takes at once.</summary>
/// <param name="TimeoutSeconds">The host's <c>functionTimeout</c> (Consumption plan: at most 600 s).</param>
/// <param name="BatchSize">Queue items one instance takes per batch (<c>extensions.queues.batchSize</c>, 1 to 32).</param>
/// <param name="NewBatchThreshold">Items still running below which an instance takes the next batch (<c>newBatchThreshold</c>).</param>
public sealed record FunctionAppOptions(int TimeoutSeconds = 300, int BatchSize = 16, int NewBatchThreshold = 8);

/// <summary>
/// The files that make the application a custom-handler Function App: <c>host.json</c> and one folder per function
/// with its <c>function.json</c>. <see cref="FunctionsHandler.QueueFunction"/> is queue-triggered (the queue named by
/// the app setting <see cref="QueueSetting"/>, in the account of <c>AzureWebJobsStorage</c>);
/// <see cref="FunctionsHandler.HttpFunction"/> is HTTP-triggered with a function key.
/// </summary>
/// <remarks>
/// The queue settings follow the executor: a failed delivery is never retried by the host (<c>maxDequeueCount</c> 1:
/// the message goes to <c>{queue}-poison</c> at its next delivery), because the client retries the call itself with a
/// new attempt once its status is overdue; <c>visibilityTimeout</c> 0 then only affects how soon a failed message is
/// moved aside. <c>maxPollingInterval</c> is 2 s (the host's default is a minute, which would add up to a minute to a
/// job's first call on an idle app).
/// </remarks>
public static class FunctionAppFiles
{
    /// <summary>The app setting that names the queue (<c>%NEUTRAL_QUEUE%</c> in <c>function.json</c>).</summary>
    public const string QueueSetting = "NEUTRAL_QUEUE";

    /// <summary>Writes <c>host.json</c> and the functions' folders into <paramref name="folder"/>, the handler being <paramref name="executable"/> (relative to it).</summary>
    public static void Write(string folder, string executable, FunctionAppOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(executable);
        if (options.TimeoutSeconds is < 1 or > 86_400)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.TimeoutSeconds, "the function timeout is 1 s to a day");
        }

        if (options.BatchSize is < 1 or > 32 || options.NewBatchThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "the queue batch size is 1 to 32, the new-batch threshold 0 or more");
        }

        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "host.json"), HostJson(executable, options));
        Directory.CreateDirectory(Path.Combine(folder, FunctionsHandler.QueueFunction));
        File.WriteAllText(Path.Combine(folder, FunctionsHandler.QueueFunction, "function.json"), Json(json =>
        {
            json.WriteStartArray("bindings");
            json.WriteStartObject();
            json.WriteString("name", FunctionsHandler.QueueBinding);
            json.WriteString("type", "queueTrigger");
            json.WriteString("direction", "in");
            json.WriteString("queueName", "%" + QueueSetting + "%");
            json.WriteString("connection", "AzureWebJobsStorage");
            json.WriteEndObject();
            json.WriteEndArray();
        }));
        Directory.CreateDirectory(Path.Combine(folder, FunctionsHandler.HttpFunction));
        File.WriteAllText(Path.Combine(folder, FunctionsHandler.HttpFunction, "function.json"), Json(json =>
        {
            json.WriteStartArray("bindings");
            json.WriteStartObject();
            json.WriteString("name", "req");
            json.WriteString("type", "httpTrigger");
            json.WriteString("direction", "in");
            json.WriteString("authLevel", "function");
            json.WriteStartArray("methods");
            json.WriteStringValue("post");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartObject();
            json.WriteString("name", "res");
            json.WriteString("type", "http");
            json.WriteString("direction", "out");
            json.WriteEndObject();
            json.WriteEndArray();
        }));
    }

    /// <summary><c>host.json</c>: the custom handler, the function timeout, the queue trigger's settings and the extension bundle.</summary>
    public static string HostJson(string executable, FunctionAppOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Json(json =>
        {
            json.WriteString("version", "2.0");
            json.WriteString("functionTimeout", TimeSpan.FromSeconds(options.TimeoutSeconds).ToString("c", CultureInfo.InvariantCulture));
            json.WriteStartObject("customHandler");
            json.WriteStartObject("description");
            json.WriteString("defaultExecutablePath", executable);
            json.WriteString("workingDirectory", "");
            json.WriteStartArray("arguments");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteBoolean("enableForwardingHttpRequest", false);
            json.WriteEndObject();
            json.WriteStartObject("extensions");
            json.WriteStartObject("queues");
            json.WriteNumber("batchSize", options.BatchSize);
            json.WriteNumber("newBatchThreshold", options.NewBatchThreshold);
            json.WriteNumber("maxDequeueCount", 1);
            json.WriteString("visibilityTimeout", "00:00:00");
            json.WriteString("maxPollingInterval", "00:00:02");
            json.WriteString("messageEncoding", "base64");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject("extensionBundle");
            json.WriteString("id", "Microsoft.Azure.Functions.ExtensionBundle");
            json.WriteString("version", "[4.*, 5.0.0)");
            json.WriteEndObject();
        });
    }

    /// <summary>The name the handler executable has in the package (an apphost or NativeAOT binary does not depend on its own file name).</summary>
    public const string HandlerName = "handler";

    /// <summary>
    /// The Function App's zip package: the published application in <paramref name="publishFolder"/> with
    /// <paramref name="executable"/> stored as <see cref="HandlerName"/> (mode 755) at the root, and the app's files
    /// (<c>host.json</c>, the functions' folders) written into the folder first. Symbols stay on the build machine.
    /// </summary>
    public static byte[] Package(string publishFolder, string executable, FunctionAppOptions options)
    {
        Write(publishFolder, HandlerName, options);
        return Providers.WorkerPackage.Zip(publishFolder, executable, HandlerName);
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
