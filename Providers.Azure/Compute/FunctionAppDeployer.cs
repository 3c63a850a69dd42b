using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Neutral.Providers.Azure.Worker;
using Neutral.Wire;

namespace Neutral.Providers.Azure.Compute;

/// <summary>Where the Function App lives in Azure Resource Manager.</summary>
/// <param name="SubscriptionId">The subscription's id (a GUID).</param>
/// <param name="ResourceGroup">The resource group (it must exist).</param>
/// <param name="App">The Function App's name (globally unique: it is the <c>{App}.azurewebsites.net</c> host).</param>
/// <param name="Location">The region to create the app in (e.g. <c>westeurope</c>): needed only when the app does not exist yet.</param>
/// <param name="Plan">
/// The resource id of the App Service plan to create the app on; when null, a Linux Consumption plan (<c>Y1</c>,
/// Dynamic) named <c>{App}-plan</c> is created with the app. Ignored for an existing app.
/// </param>
public sealed record FunctionAppTarget(string SubscriptionId, string ResourceGroup, string App, string? Location = null, string? Plan = null)
{
    /// <summary>The app's resource id.</summary>
    public string SiteId => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Web/sites/{App}";

    /// <summary>The plan the app is created on: <see cref="Plan"/>, else <c>{App}-plan</c> in the resource group.</summary>
    public string PlanId => Plan ?? $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Web/serverfarms/{App}-plan";

    /// <summary>The app's id, never a secret.</summary>
    public override string ToString() => SiteId;
}

/// <summary>What a deployment did.</summary>
/// <param name="AppId">The Function App's resource id.</param>
/// <param name="Created">Whether the app (and, with no <see cref="FunctionAppTarget.Plan"/>, its plan) was created; else its settings were updated.</param>
/// <param name="ZipBytes">The package's size.</param>
/// <param name="TablesDigest">The digest of the deployed dispatch tables (the app setting <see cref="FunctionAppDeployer.TablesSetting"/>).</param>
/// <param name="Package">The package blob's address, without a signature.</param>
public sealed record FunctionAppDeployment(string AppId, bool Created, long ZipBytes, string TablesDigest, Uri Package);

/// <summary>
/// Deploys the worker as a Function App on Linux, through Azure Resource Manager: the package
/// (<see cref="FunctionAppFiles.Package"/>) goes to the job's container and the app runs from it
/// (<c>WEBSITE_RUN_FROM_PACKAGE</c>, no build and no Kudu on the way); the app and its Consumption plan are created as
/// generic resources (<c>PUT</c> of <c>Microsoft.Web/sites</c> and <c>Microsoft.Web/serverfarms</c> by resource id,
/// through Azure.Core's pipeline: bearer token, retries of 429/5xx, long-running operations followed; see
/// <see cref="ManagementOptions"/> for why not Azure.ResourceManager) when missing, or the existing app's
/// settings are read, merged with the ones Neutral owns and written back (<c>config/appsettings</c>), so settings a
/// user added survive; then the host is told to read its triggers again (<c>syncfunctiontriggers</c>, which a package
/// URL change needs on Consumption). The queue and its poison queue are created, and the deployment record (the
/// dispatch tables the package carries) is written last, so a client never sees a record for code that is not in place.
/// </summary>
public static class FunctionAppDeployer
{
    /// <summary>The <c>Microsoft.Web</c> API version of every request (pinned: no provider lookup before the first request).</summary>
    public const string ApiVersion = "2024-04-01";

    /// <summary>The app setting holding the deployed tables' digest (informational: the record in the container is what clients check).</summary>
    public const string TablesSetting = "NEUTRAL_TABLES";

    /// <summary>How long the package URL's signature (shared-key accounts) stays valid: the app reads the package at every cold start.</summary>
    public static readonly TimeSpan PackageSignatureLifetime = TimeSpan.FromDays(3650);

    /// <summary>The Consumption plan's longest function timeout.</summary>
    public const int MaxTimeoutSeconds = 600;

    /// <summary>
    /// Publishes <paramref name="project"/> as the app's handler for linux-x64 (see <see cref="WorkerPackage.PublishAsync"/>:
    /// NativeAOT when it builds without a warning, else self-contained JIT with ReadyToRun). Deploy the result with
    /// <c>NEUTRAL_WORKER=azure-deploy</c> (see the README) or <see cref="DeployAsync"/>.
    /// </summary>
    public static Task<PublishedWorker> PublishAsync(string project, string output, bool? nativeAot = null, CancellationToken cancellationToken = default) =>
        WorkerPackage.PublishAsync(project, output, nativeAot, cancellationToken);

    /// <summary>Where a package is kept in the container: by the tables' digest and the package's own hash.</summary>
    public static string PackageKey(string app, string tablesDigest, byte[] zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        return StorageLayout.AzurePackage(app, tablesDigest, Convert.ToHexStringLower(SHA256.HashData(zip)));
    }

    /// <summary>
    /// The app settings Neutral owns: the custom-handler runtime, the host's storage (the connection string, or the
    /// account's service addresses for the app's managed identity), the package, the worker runtime and its queue,
    /// the timeout, the tables' digest and <paramref name="environment"/> (e.g. the startup hook under the JIT).
    /// </summary>
    public static Dictionary<string, string> AppSettings(BlobSettings storage, Uri queueService, string queue, string packageUrl, int timeoutSeconds,
        string tablesDigest, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(queueService);
        ArgumentNullException.ThrowIfNull(environment);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["FUNCTIONS_WORKER_RUNTIME"] = "custom",
            ["FUNCTIONS_EXTENSION_VERSION"] = "~4",
            ["WEBSITE_RUN_FROM_PACKAGE"] = packageUrl,
            ["NEUTRAL_WORKER"] = FunctionsHandler.RuntimeName,
            [FunctionAppFiles.QueueSetting] = queue,
            [FunctionsHandler.TimeoutVariable] = timeoutSeconds.ToString(CultureInfo.InvariantCulture),
            [TablesSetting] = tablesDigest,
        };
        if (storage.ConnectionString is { } connection)
        {
            settings[AzureProvider.HostStorageVariable] = connection;
        }
        else
        {
            // Identity-based host storage: the app's system-assigned identity needs the storage roles the README lists.
            settings[AzureProvider.HostStorageVariable + "__blobServiceUri"] = storage.ServiceUri().ToString();
            settings[AzureProvider.HostStorageVariable + "__queueServiceUri"] = queueService.ToString();
            settings["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"] = "SystemAssigned";
        }

        foreach (var (name, value) in environment)
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>The body of the <c>PUT</c> creating the Consumption plan: Linux (<c>reserved</c>), <c>Y1</c>, Dynamic.</summary>
    public static string PlanBody(string location) => Json(json =>
    {
        json.WriteString("location", location);
        json.WriteString("kind", "functionapp");
        json.WriteStartObject("sku");
        json.WriteString("name", "Y1");
        json.WriteString("tier", "Dynamic");
        json.WriteEndObject();
        json.WriteStartObject("properties");
        json.WriteBoolean("reserved", true);
        json.WriteEndObject();
    });

    /// <summary>The body of the <c>PUT</c> creating the app: a Linux Function App with a system-assigned identity, HTTPS only, its settings given.</summary>
    public static string SiteBody(string location, string plan, IReadOnlyDictionary<string, string> appSettings)
    {
        ArgumentException.ThrowIfNullOrEmpty(plan);
        ArgumentNullException.ThrowIfNull(appSettings);
        return Json(json =>
        {
            json.WriteString("location", location);
            json.WriteString("kind", "functionapp,linux");
            json.WriteStartObject("identity");
            json.WriteString("type", "SystemAssigned");
            json.WriteEndObject();
            json.WriteStartObject("properties");
            json.WriteString("serverFarmId", plan);
            json.WriteBoolean("reserved", true);
            json.WriteBoolean("httpsOnly", true);
            json.WriteStartObject("siteConfig");
            json.WriteString("linuxFxVersion", "");
            json.WriteString("ftpsState", "Disabled");
            json.WriteString("minTlsVersion", "1.2");
            json.WriteStartArray("appSettings");
            foreach (var (name, value) in appSettings.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteString("value", value);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    /// <summary>
    /// Deploys <paramref name="zip"/> (see <see cref="FunctionAppFiles.Package"/>) as <paramref name="target"/>, the
    /// worker reading and writing the container of <paramref name="storage"/> and the app's queue
    /// <paramref name="queue"/> in the same account (at <paramref name="queueService"/>); see the class remarks for the
    /// steps. <paramref name="credential"/> signs the management requests; <paramref name="options"/> defaults to
    /// <see cref="ClientOptions"/>.
    /// </summary>
    public static async Task<FunctionAppDeployment> DeployAsync(FunctionAppTarget target, TokenCredential credential, BlobSettings storage, Uri queueService, string queue,
        byte[] zip, IReadOnlyDictionary<string, string> tables, IReadOnlyDictionary<string, string> environment, int timeoutSeconds,
        ManagementOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(tables);
        if (timeoutSeconds is < 1 or > MaxTimeoutSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(timeoutSeconds), timeoutSeconds, $"a function on the Consumption plan runs at most {MaxTimeoutSeconds} s");
        }

        options ??= new ManagementOptions();
        string digest = DeployedTables.Digest(tables);
        BlobServiceClient service = BlobObjectStore.Connect(storage);
        BlobContainerClient container = service.GetBlobContainerClient(storage.Container);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

        // 1. The package, in the job's container, under a name no other build has.
        BlobClient package = container.GetBlobClient(PackageKey(target.App, digest, zip));
        await package.UploadAsync(BinaryData.FromBytes(zip), overwrite: true, cancellationToken).ConfigureAwait(false);
        string packageUrl = package.CanGenerateSasUri
            ? package.GenerateSasUri(BlobSasPermissions.Read, DateTimeOffset.UtcNow + PackageSignatureLifetime).ToString()
            : package.Uri.ToString();

        // 2. The queue the app is triggered by, and the one failed deliveries are moved to.
        foreach (string name in new[] { queue, queue + "-poison" })
        {
            await AzureProvider.OpenQueue(storage, queueService, name).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // 3. The app: created with its settings, or its settings merged.
        Dictionary<string, string> owned = AppSettings(storage, queueService, queue, packageUrl, timeoutSeconds, digest, environment);
        HttpPipeline pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, options.Scope));
        var arm = new Management(pipeline, options);
        bool exists = await arm.ExistsAsync(target.SiteId, cancellationToken).ConfigureAwait(false);
        if (!exists)
        {
            string location = target.Location is { Length: > 0 } l ? l
                : throw new NeutralConfigurationException("Neutral:Azure:Location", null, $"the Function App {target.App} does not exist yet: set the region to create it in, e.g. westeurope.");
            if (target.Plan is null)
            {
                await arm.PutAsync(target.PlanId, PlanBody(location), cancellationToken).ConfigureAwait(false);
            }

            await arm.PutAsync(target.SiteId, SiteBody(location, target.PlanId, owned), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            Dictionary<string, string> current = ParseSettings(await arm.SendAsync(RequestMethod.Post, target.SiteId + "/config/appsettings/list", null, cancellationToken).ConfigureAwait(false));
            foreach (var (name, value) in owned)
            {
                current[name] = value;
            }

            if (storage.ConnectionString is not null)
            {
                // A switch from identity-based storage back to a connection string: the old settings would win.
                foreach (string stale in current.Keys.Where(k => k.StartsWith(AzureProvider.HostStorageVariable + "__", StringComparison.Ordinal)).ToList())
                {
                    current.Remove(stale);
                }

                current.Remove("WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID");
            }

            await arm.SendAsync(RequestMethod.Put, target.SiteId + "/config/appsettings", AppSettingsBody(current), cancellationToken).ConfigureAwait(false);
        }

        await arm.SendAsync(RequestMethod.Post, target.SiteId + "/syncfunctiontriggers", null, cancellationToken).ConfigureAwait(false);

        // 4. The record clients check before a job: only now that the code is in place.
        byte[] record = Encoding.UTF8.GetBytes(DeployedTables.Text(tables));
        await container.GetBlobClient(FunctionsComputeBackend.RecordKey(target.App)).UploadAsync(BinaryData.FromBytes(record), overwrite: true, cancellationToken).ConfigureAwait(false);
        return new FunctionAppDeployment(target.SiteId, !exists, zip.LongLength, digest, package.Uri);
    }

    /// <summary>
    /// What <see cref="DeployAsync"/> would send (<see cref="DeploymentPlan"/>): the same package name, settings and
    /// bodies, nothing sent and no token asked for. Both branches are listed (the app may or may not exist).
    /// </summary>
    internal static DeploymentPlan Plan(FunctionAppTarget target, BlobSettings storage, Uri queueService, string queue, byte[] zip,
        IReadOnlyDictionary<string, string> tables, IReadOnlyDictionary<string, string> environment, int timeoutSeconds, ManagementOptions options, string summary)
    {
        string digest = DeployedTables.Digest(tables);
        string container = storage.ServiceUri().ToString().TrimEnd('/') + "/" + storage.Container + "/";
        string packageKey = PackageKey(target.App, digest, zip);
        string packageUrl = container + packageKey + "?sig=(a read-only SAS)";
        Dictionary<string, string> owned = AppSettings(storage, queueService, queue, packageUrl, timeoutSeconds, digest, environment);
        string Arm(string path) => new Uri(options.Endpoint, $"{path.TrimStart('/')}?api-version={options.ApiVersion}").ToString();
        var plan = new DeploymentPlan(FormattableString.Invariant($"{summary}, {zip.Length / 1048576.0:0.0} MiB package, {tables.Count} function{(tables.Count == 1 ? "" : "s")}. It would send:"));
        plan.Request("PUT", container, "create the container when missing");
        plan.Request("PUT", container + packageKey, "the package, read by the app through a SAS");
        string queues = queueService.ToString().TrimEnd('/');
        plan.Request("PUT", $"{queues}/{queue}", "create the calls' queue when missing");
        plan.Request("PUT", $"{queues}/{queue}-poison", "create the poison queue when missing");
        plan.Request("GET", Arm(target.SiteId), "does the Function App exist?");
        plan.When("If it does not exist:");
        if (target.Location is not { Length: > 0 } location)
        {
            plan.Request("PUT", Arm(target.SiteId), "(not sent: Neutral:Azure:Location is needed to create the app)");
        }
        else
        {
            if (target.Plan is null)
            {
                plan.Request("PUT", Arm(target.PlanId), "the Consumption plan (waiting for the operation to end)", PlanBody(location));
            }

            plan.Request("PUT", Arm(target.SiteId), "the Function App with its settings (waiting for the operation to end)", SiteBody(location, target.PlanId, owned));
        }

        plan.When("If it exists:");
        plan.Request("POST", Arm(target.SiteId + "/config/appsettings/list"), "its current settings");
        plan.Request("PUT", Arm(target.SiteId + "/config/appsettings"), "its settings with these merged in", AppSettingsBody(owned));
        plan.When("Then:");
        plan.Request("POST", Arm(target.SiteId + "/syncfunctiontriggers"), "the host reads the new triggers");
        plan.Request("PUT", container + FunctionsComputeBackend.RecordKey(target.App), "the record clients check before a job", DeployedTables.Text(tables).TrimEnd('\n'));
        return plan;
    }

    /// <summary>The body of <c>PUT .../config/appsettings</c>.</summary>
    public static string AppSettingsBody(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Json(json =>
        {
            json.WriteStartObject("properties");
            foreach (var (name, value) in settings.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
        });
    }

    private static Dictionary<string, string> ParseSettings(string body)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        using JsonDocument document = JsonDocument.Parse(body);
        if (document.RootElement.TryGetProperty("properties", out JsonElement properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty setting in properties.EnumerateObject())
            {
                settings[setting.Name] = setting.Value.GetString() ?? "";
            }
        }

        return settings;
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
