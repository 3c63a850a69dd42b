using System;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Storage.Queues;
using Neutral.Wire;

namespace Neutral.Providers.Azure.Compute;

/// <summary>Which Function App runs the calls and how they reach it.</summary>
/// <param name="App">The Function App's name (for messages, deployment and cost).</param>
/// <param name="Queue">The storage queue its queue-triggered function reads.</param>
/// <param name="MaxConcurrency">Queue writes in flight at most.</param>
public sealed record FunctionsSettings(string App, string Queue = FunctionsSettings.DefaultQueue, int MaxConcurrency = 256)
{
    /// <summary>The queue name unless configured.</summary>
    public const string DefaultQueue = "neutral-calls";

    /// <inheritdoc/>
    public override string ToString() => $"Function App {App} (queue {Queue})";
}

/// <summary>
/// The <c>azure</c> compute: each attempt is one message on the Function App's storage queue (base64 of the invocation
/// envelope's JSON, as the Functions queue trigger reads it by default); the host's queue trigger hands it to the app's
/// custom handler, and the call's status object in Blob storage is the only signal of completion. Writes are bounded
/// (<see cref="FunctionsSettings.MaxConcurrency"/> in flight); a busy queue service (<c>503 ServerBusy</c>, <c>500
/// OperationTimedOut</c>, <c>429</c>) is the contract's <see cref="ThrottledException"/>; a missing queue says to deploy first.
/// </summary>
public sealed class FunctionsComputeBackend : IComputeBackend
{
    private readonly QueueClient _queue;
    private readonly SemaphoreSlim _inFlight;

    /// <summary>Creates the backend writing to <paramref name="queue"/> (the client carries the account and its credential).</summary>
    public FunctionsComputeBackend(FunctionsSettings settings, QueueClient queue, StoreLocation store)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(store);
        Settings = settings;
        _queue = queue;
        Store = store;
        _inFlight = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
    }

    /// <summary>The app and queue.</summary>
    public FunctionsSettings Settings { get; }

    /// <inheritdoc/>
    public string Name => AzureProvider.ComputeName;

    /// <inheritdoc/>
    public StoreLocation Store { get; }

    /// <summary>Queue client options: messages base64-encoded, as the Functions queue trigger expects by default.</summary>
    public static QueueClientOptions QueueOptions() => new() { MessageEncoding = QueueMessageEncoding.Base64 };

    /// <inheritdoc/>
    public async ValueTask InvokeAsync(InvocationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        BinaryData message = BinaryData.FromBytes(WireJson.Serialize(envelope));
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
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

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _inFlight.Dispose();
        return default;
    }
}
