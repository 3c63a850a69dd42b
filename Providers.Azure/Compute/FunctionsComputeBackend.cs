using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Neutral.Dispatch;
using Neutral.Wire;

namespace Neutral.Providers.Azure.Compute;

/// <summary>Which Function App runs the calls and how they reach it.</summary>
/// <param name="App">The Function App's name (for messages, deployment and cost).</param>
/// <param name="Queue">The storage queue its queue-triggered function reads.</param>
/// <param name="MaxConcurrency">Queue writes (or HTTP requests) in flight at most.</param>
/// <param name="HttpUrl">Invoke through the app's HTTP-triggered function at this address (<c>https://{app}.azurewebsites.net/</c>) instead of the queue.</param>
/// <param name="FunctionKey">The HTTP function's key (sent as <c>x-functions-key</c>).</param>
public sealed record FunctionsSettings(string App, string Queue = FunctionsSettings.DefaultQueue, int MaxConcurrency = 256, Uri? HttpUrl = null, string? FunctionKey = null)
{
    /// <summary>The queue name unless configured.</summary>
    public const string DefaultQueue = "neutral-calls";

    /// <inheritdoc/>
    public override string ToString() => HttpUrl is null ? $"Function App {App} (queue {Queue})" : $"Function App {App} ({HttpUrl}api/{Worker.FunctionsHandler.HttpFunction})";
}

/// <summary>
/// The <c>azure</c> compute: each attempt is one message on the Function App's storage queue (base64 of the invocation
/// envelope's JSON, as the Functions queue trigger reads it by default); the host's queue trigger hands it to the app's
/// custom handler, and the call's status object in Blob storage is the only signal of completion. With the account key,
/// a send is one plain <c>POST</c> under a SAS of the queue's (<see cref="QueueSender"/>); otherwise (Entra ID) the SDK's
/// <c>SendMessage</c>. Writes are bounded
/// (<see cref="FunctionsSettings.MaxConcurrency"/> in flight); a busy queue service (<c>503 ServerBusy</c>, <c>500
/// OperationTimedOut</c>, <c>429</c>) is the contract's <see cref="ThrottledException"/>; a missing queue says to deploy first.
/// Before a job, the app's deployment record in the job's container (<see cref="RecordKey"/>: the dispatch tables the
/// deployed code carries) is compared with the job's functions; an attempt without a status is explained from the
/// poison queue.
/// </summary>
public sealed class FunctionsComputeBackend : IDeployedComputeBackend, IPricedComputeBackend, ISelfInvokingComputeBackend
{
    private const int ServerErrorTries = 3;
    private readonly QueueClient _queue;
    private readonly SemaphoreSlim _inFlight;
    private readonly System.Net.Http.HttpClient? _http;
    private readonly IObjectStore? _records;
    private readonly QueueClient? _poison;
    private readonly QueueSender? _sender;
    private readonly Providers.DeployedTables _deployed;

    /// <summary>
    /// Creates the backend writing to <paramref name="queue"/> (the client carries the account and its credential);
    /// <paramref name="records"/> is the job store, where deployment keeps the app's record (null: no check before a job);
    /// <paramref name="poison"/> the queue's poison queue (<c>{queue}-poison</c>, the same account and credential), read
    /// to explain lost attempts.
    /// </summary>
    public FunctionsComputeBackend(FunctionsSettings settings, QueueClient queue, StoreLocation store, IObjectStore? records = null, QueueClient? poison = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(store);
        Settings = settings;
        _queue = queue;
        Store = store;
        _records = records;
        _poison = poison;
        _deployed = new Providers.DeployedTables(time ?? TimeProvider.System);
        if (queue.CanGenerateSasUri && settings.HttpUrl is null)
        {
            // The client holds the account key: sends go out on the lean path (see QueueSender); otherwise through the SDK.
            // The SAS is checked by the service against its own clock: the system's, never the executor's (a test's fake one).
            _sender = new QueueSender(queue, TimeProvider.System);
        }
        _inFlight = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
        if (settings.HttpUrl is not null)
        {
            // An HTTP invocation runs the call before it answers: as long as the function may run.
            _http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromMinutes(15) };
        }
    }

    /// <summary>The app and queue.</summary>
    public FunctionsSettings Settings { get; }

    /// <inheritdoc/>
    public string Name => AzureProvider.ComputeName;

    /// <summary>
    /// Null behind the queue trigger: a launcher call (<c>Job:InvokeFrom=cloud</c>) writes to the app's own queue with
    /// its host storage's credential. Behind an HTTP trigger the handler holds no function key to call itself.
    /// </summary>
    public string? SelfInvokeRefusal => Settings.HttpUrl is null
        ? null
        : "an HTTP-triggered Function App's handler holds no function key to invoke itself";

    /// <inheritdoc/>
    public StoreLocation Store { get; }

    /// <summary>The prices <see cref="EstimateCost"/> uses.</summary>
    public FunctionsPrices Prices { get; init; } = new();

    /// <summary>Where deployment records the dispatch tables of Function App <paramref name="app"/> in the job store.</summary>
    public static string RecordKey(string app) => StorageLayout.AzureRecord(app);

    /// <inheritdoc/>
    public ValueTask VerifyDeploymentAsync(IReadOnlyCollection<RemoteFunctionInfo> functions, CancellationToken cancellationToken = default) =>
        _records is null ? default : _deployed.VerifyAsync(functions, ReadRecordAsync, cancellationToken);

    private async Task<IReadOnlyDictionary<string, string>?> ReadRecordAsync(CancellationToken cancellationToken)
    {
        byte[] record = await _records!.GetAsync(RecordKey(Settings.App), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"{Settings} has no deployment record ({RecordKey(Settings.App)} in the job's container): deploy the worker first (NEUTRAL_WORKER=azure-deploy, see the README), or set Neutral:Azure:App to the app that was.");
        return Providers.DeployedTables.Parse(Encoding.UTF8.GetString(record));
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The host moves a message whose delivery failed (the handler died, ran past <c>functionTimeout</c>, or answered an
    /// error) to <c>{queue}-poison</c>: the attempt's message there says so. The handler's log line per call is in the
    /// app's Application Insights traces either way.
    /// </remarks>
    public async ValueTask<string?> ExplainAttemptAsync(string jobId, int callIndex, int attempt, CancellationToken cancellationToken = default)
    {
        string logs = $"look in the app's Application Insights traces for \"job {jobId} call {callIndex} attempt {attempt}\"";
        if (_http is not null)
        {
            return $"{Settings}: {logs}";
        }

        try
        {
            if (_poison is not { } poison)
            {
                return $"{Settings}: {logs}";
            }

            PeekedMessage[] messages = (await poison.PeekMessagesAsync(32, cancellationToken).ConfigureAwait(false)).Value;
            foreach (PeekedMessage message in messages)
            {
                if (IsAttempt(message.Body, jobId, callIndex, attempt))
                {
                    return $"the Functions host gave up on the invocation message and moved it to the poison queue {Settings.Queue}-poison after {message.DequeueCount} deliveries (the handler died, ran past the function timeout, or answered an error); {logs}";
                }
            }
        }
        catch (Exception e) when (e is RequestFailedException or InvalidOperationException or System.Net.Http.HttpRequestException)
        {
            // No poison queue, or no right to read it: the log pointer still helps.
        }

        return $"{Settings}: {logs}";
    }

    private static bool IsAttempt(BinaryData body, string jobId, int callIndex, int attempt)
    {
        try
        {
            InvocationEnvelope envelope = WireJson.DeserializeEnvelope(body.ToArray());
            return envelope.JobId == jobId && envelope.CallIndex == callIndex && envelope.Attempt == attempt;
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public void ForgetJob(string jobId)
    {
    }

    /// <inheritdoc/>
    public decimal EstimateCost(JobUsage usage) => Prices.Estimate(usage);

    /// <summary>Queue client options: messages base64-encoded, as the Functions queue trigger expects by default.</summary>
    /// <remarks>The SDK's request logging and distributed tracing are off: at thousands of sends a second they cost more CPU than the sends.</remarks>
    public static QueueClientOptions QueueOptions()
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        return options;
    }

    /// <inheritdoc/>
    public async ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        BinaryData message = BinaryData.FromBytes(WireJson.Serialize(envelope));
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_http is not null)
            {
                await PostAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (_sender is not null)
            {
                await _sender.SendAsync(message.ToMemory(), cancellationToken).ConfigureAwait(false);
                return;
            }

            await _queue.SendMessageAsync(message, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 429 or 503 || e.ErrorCode is "ServerBusy" or "OperationTimedOut")
        {
            throw new ThrottledException($"The queue service is busy for {Settings} ({e.Status} {e.ErrorCode}): {FirstLine(e.Message)}", null, e);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new InvalidOperationException(
                $"{Settings}: the queue does not exist at {_queue.Uri} ({e.ErrorCode}): deploy the worker first (NEUTRAL_WORKER=azure-deploy, see the README), or set Neutral:Azure:Queue to the app's queue.", e);
        }
        catch (RequestFailedException e) when (e.Status is 401 or 403)
        {
            throw new InvalidOperationException(
                $"{Settings}: the storage account refused the credentials for {_queue.Uri} ({e.Status} {e.ErrorCode}): check Neutral:Azure:ConnectionString, or that the signed-in identity has the role Storage Queue Data Message Sender.", e);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>The HTTP function: the envelope as the body, the key in <c>x-functions-key</c>; 2xx means the call ran.</summary>
    private async Task PostAsync(BinaryData message, CancellationToken cancellationToken)
    {
        var address = new Uri(Settings.HttpUrl!, "api/" + Worker.FunctionsHandler.HttpFunction);
        for (int attempt = 1; ; attempt++)
        {
            using var request = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Post, address) { Content = new System.Net.Http.ByteArrayContent(message.ToArray()) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("x-functions-key", Settings.FunctionKey);
            using System.Net.Http.HttpResponseMessage response = await _http!.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            string text = FirstLine(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            int status = (int)response.StatusCode;
            if (status is 500 or 504)
            {
                // The function ran, or is still running, and failed without a status (its handler died, ran past the
                // function timeout, or could not write one): sending it again would run the same attempt twice. As
                // through the queue, the attempt's status decides; once overdue the executor retries it as a new one.
                return;
            }

            if (status == 502 && attempt < ServerErrorTries)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt * attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }

            throw status switch
            {
                429 or 503 => new ThrottledException($"{Settings} is busy ({status}): {text}", response.Headers.RetryAfter?.Delta, null),
                401 or 403 => new InvalidOperationException($"{Settings} refused the function key ({status}): check Neutral:Azure:FunctionKey (the key of function '{Worker.FunctionsHandler.HttpFunction}', or the app's host key)."),
                404 => new InvalidOperationException($"{Settings} has no function '{Worker.FunctionsHandler.HttpFunction}' (404): deploy the worker first (NEUTRAL_WORKER=azure-deploy, see the README)."),
                _ => new System.IO.IOException($"{Settings} failed the invocation ({status}): {text}"),
            };
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _http?.Dispose();
        _sender?.Dispose();
        _inFlight.Dispose();
        return default;
    }
}
