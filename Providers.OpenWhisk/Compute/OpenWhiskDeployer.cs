using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers.OpenWhisk.Compute;

/// <summary>The limits of the deployed action.</summary>
/// <param name="TimeoutSeconds">The action's time limit (OpenWhisk's default range: 0.1 s to 5 min, more if the cluster allows).</param>
/// <param name="MemoryMb">The container's memory in MiB.</param>
/// <param name="Concurrency">Activations one container serves at once (1: one call at a time, as the worker expects).</param>
public sealed record ActionLimits(int TimeoutSeconds = 300, int MemoryMb = 256, int Concurrency = 1)
{
    /// <summary>
    /// Whether the invoker hands the action its namespace key (<c>provide-api-key</c>; <c>Neutral:OpenWhisk:ProvideApiKey</c>,
    /// default false): needed for <c>Job:InvokeFrom=cloud</c>, whose launcher calls invoke the action from inside it.
    /// The worker keeps the key in memory for them and out of the environment, but the calls run in the same process.
    /// </summary>
    public bool ProvideApiKey { get; init; }
}

/// <summary>
/// Deploys the worker as an OpenWhisk native action: the published application zipped with its executable as
/// <c>exec</c> at the root, created or updated with <c>PUT /api/v1/namespaces/{ns}/actions/{name}?overwrite=true</c>
/// (kind <c>blackbox</c> on the action-proxy image, binary code), with its limits, the variables the worker needs as
/// init parameters (OpenWhisk passes them to <c>/init</c> as the action's environment), an annotation with the
/// dispatch tables' hashes so that a stale action can be told before a job starts, and <c>provide-api-key: false</c>
/// so that the namespace key never reaches the action.
/// </summary>
public static class OpenWhiskDeployer
{
    /// <summary>The image of OpenWhisk's action proxy for native actions.</summary>
    public const string ActionLoopImage = "openwhisk/actionloop-v2:latest";

    /// <summary>The annotation holding the deployed dispatch tables' function ids and hashes.</summary>
    public const string TablesAnnotation = "neutral-tables";

    /// <summary>
    /// OpenWhisk's annotation that decides whether the invoker hands the namespace key to the action (in every
    /// <c>/run</c> body as <c>api_key</c>, and in <c>/init</c>'s environment as <c>__OW_API_KEY</c>). A missing
    /// annotation means yes; the deployer sets it to <see langword="false"/>: the worker needs no key, and the user's
    /// code should not be able to read one.
    /// </summary>
    public const string ProvideApiKeyAnnotation = "provide-api-key";

    /// <summary>
    /// Zips a published application folder with <paramref name="executable"/> stored as <c>exec</c> at the root (see
    /// <see cref="WorkerPackage.Zip"/>).
    /// </summary>
    public static byte[] Package(string publishFolder, string executable) => WorkerPackage.Zip(publishFolder, executable, "exec");

    /// <summary>The JSON body of the action's create-or-update request.</summary>
    public static string ActionBody(byte[] zip, ActionLimits limits, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> tables)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(tables);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("exec");
            json.WriteString("kind", "blackbox");
            json.WriteString("image", ActionLoopImage);
            json.WriteString("code", Convert.ToBase64String(zip));
            json.WriteBoolean("binary", true);
            json.WriteString("main", "main");
            json.WriteEndObject();
            json.WriteStartObject("limits");
            json.WriteNumber("timeout", limits.TimeoutSeconds * 1000);
            json.WriteNumber("memory", limits.MemoryMb);
            json.WriteNumber("concurrency", limits.Concurrency);
            json.WriteEndObject();
            json.WriteStartArray("parameters");
            foreach (var (key, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("key", key);
                json.WriteString("value", value);
                json.WriteBoolean("init", true);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("annotations");
            json.WriteStartObject();
            json.WriteString("key", TablesAnnotation);
            json.WriteStartObject("value");
            foreach (var (id, hash) in tables.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                json.WriteString(id, hash);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject();
            json.WriteString("key", ProvideApiKeyAnnotation);
            json.WriteBoolean("value", limits.ProvideApiKey);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Packages <paramref name="publishFolder"/> with <paramref name="executable"/> as <c>exec</c> and creates or updates
    /// the action with it; returns the zip's size in bytes.
    /// </summary>
    /// <param name="settings">Where the controller is, the namespace, the action name and the key.</param>
    /// <param name="publishFolder">A self-contained or NativeAOT publish of the application for linux-x64.</param>
    /// <param name="executable">The application's executable, relative to the folder.</param>
    /// <param name="limits">The action's limits.</param>
    /// <param name="environment">Variables the action starts with (init parameters): <c>NEUTRAL_WORKER=openwhisk</c>, the store's keys.</param>
    /// <param name="tables">Every function id the application serves, and its signature hash (as <c>InvocationEnvelope.FormatHash</c> writes it).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static async Task<int> DeployAsync(OpenWhiskSettings settings, string publishFolder, string executable, ActionLimits limits,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> tables, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        byte[] zip = Package(publishFolder, executable);
        await PutActionAsync(settings, ActionBody(zip, limits, environment, tables), cancellationToken).ConfigureAwait(false);
        return zip.Length;
    }

    /// <summary>
    /// Publishes <paramref name="project"/> as an action's executable for linux-x64 (see
    /// <see cref="WorkerPackage.PublishAsync"/>: NativeAOT when it builds without a warning, else self-contained JIT;
    /// the provider's MinIO client, for one, is not trimming-safe). Deploy the result with
    /// <c>NEUTRAL_WORKER=openwhisk-deploy</c> (see the README) or <see cref="DeployAsync"/>.
    /// </summary>
    public static Task<PublishedWorker> PublishAsync(string project, string output, bool? nativeAot = null, CancellationToken cancellationToken = default) =>
        WorkerPackage.PublishAsync(project, output, nativeAot, cancellationToken);

    /// <summary>The create-or-update request's address.</summary>
    internal static Uri ActionUrl(OpenWhiskSettings settings) =>
        new(settings.ApiHost, $"api/v1/namespaces/{Uri.EscapeDataString(settings.Namespace)}/actions/{Uri.EscapeDataString(settings.Action)}?overwrite=true");

    /// <summary>What <see cref="DeployAsync"/> would send (<see cref="DeploymentPlan"/>): the same package and body, nothing sent.</summary>
    internal static DeploymentPlan Plan(OpenWhiskSettings settings, string publishFolder, string executable, ActionLimits limits,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> tables, string summary)
    {
        byte[] zip = Package(publishFolder, executable);
        return new DeploymentPlan(FormattableString.Invariant($"{summary}, {zip.Length / 1048576.0:0.0} MiB zip, {tables.Count} function{(tables.Count == 1 ? "" : "s")}. It would send:"))
            .Request("PUT", ActionUrl(settings).ToString(), "create or update the action (HTTP basic authentication with the namespace's key)", ActionBody(zip, limits, environment, tables));
    }

    /// <summary>Creates or updates the action.</summary>
    /// <exception cref="InvalidOperationException">The controller refused it (the message carries its reason).</exception>
    public static async Task PutActionAsync(OpenWhiskSettings settings, string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using HttpClient http = OpenWhiskComputeBackend.CreateClient(settings, TimeSpan.FromMinutes(5));
        Uri url = ActionUrl(settings);
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string reply = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"OpenWhisk refused the action {settings.Action} (HTTP {(int)response.StatusCode}): {(reply.Length <= 300 ? reply : reply[..300])}");
        }
    }
}
