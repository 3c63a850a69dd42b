using System;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Neutral.Providers.Azure.Compute;

/// <summary>
/// How deployment talks to Azure Resource Manager: the endpoint, the token scope, the API version, and Azure.Core's
/// usual transport and retry options (429 and 5xx are retried with back-off).
/// </summary>
/// <remarks>
/// The requests are generic-resource requests (a <c>PUT</c> or <c>GET</c> of a resource id with a pinned
/// <c>api-version</c>), sent through Azure.Core's pipeline rather than Azure.ResourceManager's <c>ArmClient</c>:
/// Azure.ResourceManager 1.7.0 (netstandard2.0) produces trim and AOT analysis warnings (IL2104, IL3053) in every
/// application that references it, and the application deploys itself (<c>NEUTRAL_WORKER=azure-deploy</c>), so the
/// package would force every app with this provider off NativeAOT. Azure.ResourceManager.AppService, the typed client,
/// is not available here either.
/// </remarks>
public sealed class ManagementOptions : ClientOptions
{
    /// <summary>Azure's public cloud.</summary>
    public static readonly Uri PublicCloud = new("https://management.azure.com/");

    /// <summary>The management endpoint (a sovereign cloud's, e.g. <c>https://management.usgovcloudapi.net/</c>).</summary>
    public Uri Endpoint { get; set; } = PublicCloud;

    /// <summary>The token scope; <c>{Endpoint}/.default</c> of the public cloud unless set.</summary>
    public string Scope { get; set; } = "https://management.azure.com/.default";

    /// <summary>The <c>Microsoft.Web</c> API version of every request.</summary>
    public string ApiVersion { get; set; } = FunctionAppDeployer.ApiVersion;

    /// <summary>How long to wait between polls of a long-running operation when Azure does not say (<c>Retry-After</c>).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a long-running operation may take before the deployment gives up.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Resource Manager requests on one pipeline: resources by id, actions on them, long-running operations followed to the end.</summary>
internal sealed class Management(HttpPipeline pipeline, ManagementOptions options)
{
    /// <summary>Whether the resource <paramref name="id"/> exists (<c>GET</c>: 200 or 404).</summary>
    public async Task<bool> ExistsAsync(string id, CancellationToken cancellationToken)
    {
        using HttpMessage message = Message(RequestMethod.Get, Address(id), null);
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        return message.Response.Status switch
        {
            200 => true,
            // A resource group that is not there answers 404 too: that is a mistake to report, not an app to create.
            404 when Error(message.Response).Code != "ResourceGroupNotFound" => false,
            _ => throw Failure(RequestMethod.Get, id, message.Response),
        };
    }

    /// <summary>Creates or updates the resource <paramref name="id"/>, waiting until its operation has succeeded.</summary>
    public async Task PutAsync(string id, string body, CancellationToken cancellationToken)
    {
        using HttpMessage message = Message(RequestMethod.Put, Address(id), body);
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        Response response = message.Response;
        if (response.Status is not (200 or 201 or 202))
        {
            throw Failure(RequestMethod.Put, id, response);
        }

        DateTimeOffset deadline = DateTimeOffset.UtcNow + options.OperationTimeout;
        if (response.Headers.TryGetValue("Azure-AsyncOperation", out string? operation))
        {
            // The operation's status resource: {"status": "InProgress" | "Succeeded" | "Failed" | "Canceled", "error": {...}}.
            while (true)
            {
                await Task.Delay(Delay(response), cancellationToken).ConfigureAwait(false);
                using HttpMessage poll = Message(RequestMethod.Get, new Uri(operation), null);
                await pipeline.SendAsync(poll, cancellationToken).ConfigureAwait(false);
                response = poll.Response;
                if (response.Status != 200)
                {
                    throw Failure(RequestMethod.Get, operation, response);
                }

                string status = Property(response, "status") ?? "InProgress";
                if (status.Equals("Succeeded", StringComparison.OrdinalIgnoreCase))
                {
                    return;
                }

                if (status.Equals("Failed", StringComparison.OrdinalIgnoreCase) || status.Equals("Canceled", StringComparison.OrdinalIgnoreCase))
                {
                    throw Failure(RequestMethod.Put, id, response, $"the operation ended {status}");
                }

                Overdue(id, deadline);
            }
        }

        if (response.Status == 202 && response.Headers.TryGetValue("Location", out string? location))
        {
            // 202 while running; the final answer when done.
            while (true)
            {
                await Task.Delay(Delay(response), cancellationToken).ConfigureAwait(false);
                using HttpMessage poll = Message(RequestMethod.Get, new Uri(location), null);
                await pipeline.SendAsync(poll, cancellationToken).ConfigureAwait(false);
                response = poll.Response;
                if (response.Status is 200 or 201 or 204)
                {
                    return;
                }

                if (response.Status != 202)
                {
                    throw Failure(RequestMethod.Put, id, response);
                }

                Overdue(id, deadline);
            }
        }
    }

    /// <summary>Sends an action (or a sub-resource's <c>PUT</c>); returns the body of its 2xx answer.</summary>
    public async Task<string> SendAsync(RequestMethod method, string path, string? body, CancellationToken cancellationToken)
    {
        using HttpMessage message = Message(method, Address(path), body);
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        Response response = message.Response;
        return response.Status is >= 200 and <= 299 ? response.Content.ToString() : throw Failure(method, path, response);
    }

    private Uri Address(string path) => new(options.Endpoint, $"{path.TrimStart('/')}?api-version={options.ApiVersion}");

    private HttpMessage Message(RequestMethod method, Uri uri, string? body)
    {
        HttpMessage message = pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        message.Request.Headers.Add("Accept", "application/json");
        if (body is not null)
        {
            message.Request.Headers.Add("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body));
        }

        return message;
    }

    private TimeSpan Delay(Response response) =>
        response.Headers.TryGetValue("Retry-After", out string? after) && int.TryParse(after, out int seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(Math.Min(seconds, 60))
            : options.PollInterval;

    private void Overdue(string id, DateTimeOffset deadline)
    {
        if (DateTimeOffset.UtcNow > deadline)
        {
            throw new TimeoutException($"Azure had not finished creating or updating {id} after {options.OperationTimeout.TotalMinutes:0} minutes; look at the resource group's activity log.");
        }
    }

    /// <summary>ARM's error body, <c>{"error":{"code","message"}}</c>: its code and message, or the body's text when it is not JSON.</summary>
    private static (string? Code, string? Message) Error(Response response)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(response.Content.ToMemory());
            return document.RootElement.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object
                ? (error.TryGetProperty("code", out JsonElement code) ? code.GetString() : null, error.TryGetProperty("message", out JsonElement text) ? text.GetString() : null)
                : (null, null);
        }
        catch (JsonException)
        {
            return (null, response.Content.ToString());
        }
    }

    private static string? Property(Response response, string name)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(response.Content.ToMemory());
            return document.RootElement.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A failure naming the request and ARM's error code and message (<c>{"error":{"code","message"}}</c>); no secret of ours is in either.</summary>
    private static RequestFailedException Failure(RequestMethod method, string path, Response response, string? what = null)
    {
        var (code, text) = Error(response);
        string shown = path.Split('?')[0];
        string detail = what ?? $"answered {response.Status}";
        return new RequestFailedException(response.Status,
            $"{method} {shown} {detail}{(code is null ? "" : ": " + code)}{(string.IsNullOrEmpty(text) ? "" : " (" + (text.Length > 400 ? text[..400] + "…" : text) + ")")}"
            + (response.Status == 401 ? ". Sign in again (az login) or give a fresh Neutral:Azure:ManagementToken." : "")
            + (response.Status == 403 ? ". The identity needs the Contributor role (or Website Contributor and Web Plan Contributor) on the resource group." : ""),
            code, null);
    }
}
