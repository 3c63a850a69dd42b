using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using Neutral.Emulators;
using Neutral.Providers.Azure.Compute;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// Deployment through Azure Resource Manager (emulated, recording every request) into Azurite: the requests' shapes,
/// a created app and an updated one, errors, and the app run by the emulated Functions host from the package a
/// deployment left, with the settings it wrote.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FunctionAppDeploymentTests(BlobContainer container) : IClassFixture<BlobContainer>
{
    internal const string Subscription = "00000000-0000-0000-0000-00000000a2e0";
    internal const string Group = "neutral-tests";
    internal const string Token = "throwaway-arm-token";
    internal static readonly string GroupId = $"/subscriptions/{Subscription}/resourceGroups/{Group}";

    [Fact]
    public async Task A_first_deployment_creates_a_Linux_Consumption_plan_and_app_and_the_host_runs_a_job_from_what_it_left()
    {
        await using var arm = await ResourceManager.StartAsync(Token, GroupId);
        using var work = new TempFolder("neutral-deploy");
        string app = "neutral-" + Guid.NewGuid().ToString("N")[..10];
        string queue = "calls-" + Guid.NewGuid().ToString("N")[..12];
        var target = new FunctionAppTarget(Subscription, Group, app, "westeurope");

        FunctionAppDeployment deployment = await DeployAsync(arm, work, target, queue);

        Assert.True(deployment.Created);
        Assert.Equal(target.SiteId, deployment.AppId);
        Assert.Equal(
            [$"GET {target.SiteId}", $"PUT {target.PlanId}", $"PUT {target.SiteId}", $"POST {target.SiteId}/syncfunctiontriggers"],
            arm.Requests.Select(r => r.ToString()));
        Assert.All(arm.Requests, r => Assert.Equal(FunctionAppDeployer.ApiVersion, r.ApiVersion));
        Assert.All(arm.Requests, r => Assert.Equal("Bearer " + Token, r.Authorization));

        var plan = arm.Requests[1].Json!;
        Assert.Equal("westeurope", (string?)plan["location"]);
        Assert.Equal("functionapp", (string?)plan["kind"]);
        Assert.Equal("Y1", (string?)plan["sku"]!["name"]);
        Assert.Equal("Dynamic", (string?)plan["sku"]!["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!);

        var site = arm.Requests[2].Json!;
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        Assert.Equal("SystemAssigned", (string?)site["identity"]!["type"]);
        Assert.Equal(target.PlanId.ToString(), (string?)site["properties"]!["serverFarmId"]);
        Assert.True((bool)site["properties"]!["reserved"]!);
        Assert.True((bool)site["properties"]!["httpsOnly"]!);

        IReadOnlyDictionary<string, string> settings = arm.AppSettings(target.SiteId);
        Assert.Equal("custom", settings["FUNCTIONS_WORKER_RUNTIME"]);
        Assert.Equal("~4", settings["FUNCTIONS_EXTENSION_VERSION"]);
        Assert.Equal("azure", settings["NEUTRAL_WORKER"]);
        Assert.Equal(queue, settings[FunctionAppFiles.QueueSetting]);
        Assert.Equal("120", settings["NEUTRAL_FUNCTION_TIMEOUT_SECONDS"]);
        Assert.Equal(container.ConnectionString, settings["AzureWebJobsStorage"]);
        Assert.Equal(deployment.TablesDigest, settings[FunctionAppDeployer.TablesSetting]);
        Assert.StartsWith(deployment.Package + "?", settings["WEBSITE_RUN_FROM_PACKAGE"], StringComparison.Ordinal);
        Assert.Contains("sig=", settings["WEBSITE_RUN_FROM_PACKAGE"], StringComparison.Ordinal);

        // What clients check before a job, and the queues the app is triggered by.
        byte[]? record = await container.Store.GetAsync(FunctionsComputeBackend.RecordKey(app));
        Assert.Equal(DeployedTables.Text(DeployedTables.Of(Dispatch.RemoteDispatch.Functions)), Encoding.UTF8.GetString(record!));
        Assert.True((await new QueueClient(container.ConnectionString, queue).ExistsAsync()).Value);
        Assert.True((await new QueueClient(container.ConnectionString, queue + "-poison").ExistsAsync()).Value);

        // The platform's side: the package fetched from the signed URL the app setting holds, mounted, run with the app's settings.
        string site0 = Path.Combine(work.Path, "wwwroot");
        using (var http = new HttpClient())
        {
            ZipFile.ExtractToDirectory(new MemoryStream(await http.GetByteArrayAsync(new Uri(settings["WEBSITE_RUN_FROM_PACKAGE"]))), site0);
        }

        await using (var functions = new FunctionsHost(site0, settings, instances: 1))
        {
            AzureProvider.Register();
            await using Cloud cloud = Cloud.Connect(container.Configuration(("Neutral:Compute", "azure"), ("Neutral:Azure:App", app), ("Neutral:Azure:Queue", queue)));
            Assert.Equal(new long[] { 0, 1, 4, 9, 16 }, await cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.QueueFunctions.Square(i)));
        }

        await DeleteQueuesAsync(queue);
    }

    [Fact]
    public async Task Deploying_to_an_existing_app_merges_its_settings_keeping_the_users_own_and_creates_nothing()
    {
        await using var arm = await ResourceManager.StartAsync(Token, GroupId);
        using var work = new TempFolder("neutral-deploy");
        string app = "neutral-" + Guid.NewGuid().ToString("N")[..10];
        string queue = "calls-" + Guid.NewGuid().ToString("N")[..12];
        var target = new FunctionAppTarget(Subscription, Group, app);
        arm.AddSite(target.SiteId, "westeurope", new Dictionary<string, string>
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=kept",
            ["WEBSITE_RUN_FROM_PACKAGE"] = "https://old.example/package.zip",
            ["NEUTRAL_QUEUE"] = "old-queue",
        });

        FunctionAppDeployment deployment = await DeployAsync(arm, work, target, queue);

        Assert.False(deployment.Created);
        Assert.Equal(
            [$"GET {target.SiteId}", $"POST {target.SiteId}/config/appsettings/list", $"PUT {target.SiteId}/config/appsettings", $"POST {target.SiteId}/syncfunctiontriggers"],
            arm.Requests.Select(r => r.ToString()));
        IReadOnlyDictionary<string, string> settings = arm.AppSettings(target.SiteId);
        Assert.Equal("InstrumentationKey=kept", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
        Assert.Equal(queue, settings["NEUTRAL_QUEUE"]);
        Assert.StartsWith(deployment.Package.ToString(), settings["WEBSITE_RUN_FROM_PACKAGE"], StringComparison.Ordinal);
        await DeleteQueuesAsync(queue);
    }

    [Fact]
    public async Task A_busy_Resource_Manager_is_retried_and_refusals_fail_naming_the_cause_before_any_record_is_written()
    {
        await using var arm = await ResourceManager.StartAsync(Token, GroupId);
        using var work = new TempFolder("neutral-deploy");
        string queue = "calls-" + Guid.NewGuid().ToString("N")[..12];

        // 503 and 429 are retried by the pipeline: the deployment goes through.
        string app = "neutral-" + Guid.NewGuid().ToString("N")[..10];
        arm.FailNext(503, "ServiceUnavailable");
        arm.FailNext(429, "TooManyRequests");
        Assert.True((await DeployAsync(arm, work, new FunctionAppTarget(Subscription, Group, app, "westeurope"), queue)).Created);

        // A resource group that does not exist, a token Azure refuses, a missing region: clear errors, no record.
        string missing = "neutral-" + Guid.NewGuid().ToString("N")[..10];
        var noGroup = await Assert.ThrowsAsync<RequestFailedException>(() => DeployAsync(arm, work, new FunctionAppTarget(Subscription, "no-such-group", missing, "westeurope"), queue));
        Assert.Equal(404, noGroup.Status);
        Assert.Contains("ResourceGroupNotFound", noGroup.Message, StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => DeployAsync(arm, work, new FunctionAppTarget(Subscription, Group, missing, "westeurope"), queue, token: "expired"));
        Assert.Equal(401, refused.Status);
        Assert.Contains("InvalidAuthenticationToken", refused.Message, StringComparison.Ordinal);

        var noRegion = await Assert.ThrowsAsync<NeutralConfigurationException>(() => DeployAsync(arm, work, new FunctionAppTarget(Subscription, Group, missing), queue));
        Assert.Equal("Neutral:Azure:Location", noRegion.Key);
        Assert.Contains(missing, noRegion.Message, StringComparison.Ordinal);

        var tooLong = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DeployAsync(arm, work, new FunctionAppTarget(Subscription, Group, missing, "westeurope"), queue, timeoutSeconds: 601));
        Assert.Contains("600 s", tooLong.Message, StringComparison.Ordinal);

        Assert.Null(await container.Store.GetAsync(FunctionsComputeBackend.RecordKey(missing)));
        Assert.DoesNotContain(arm.Requests, r => r.Method == "PUT" && r.Path.Contains(missing, StringComparison.Ordinal));
        await DeleteQueuesAsync(queue);
    }

    [Fact]
    public async Task Long_running_creations_are_followed_to_their_end_and_a_failed_one_stops_the_deployment()
    {
        await using var arm = await ResourceManager.StartAsync(Token, GroupId);
        using var work = new TempFolder("neutral-deploy");
        string queue = "calls-" + Guid.NewGuid().ToString("N")[..12];
        arm.LongRunningPuts = true;

        var target = new FunctionAppTarget(Subscription, Group, "neutral-" + Guid.NewGuid().ToString("N")[..10], "westeurope");
        Assert.True((await DeployAsync(arm, work, target, queue)).Created);
        // Each PUT's operation polled twice (InProgress, then Succeeded) before the next request.
        Assert.Equal(["GET site", "PUT serverfarms", "GET operationStatuses", "GET operationStatuses", "PUT site", "GET operationStatuses", "GET operationStatuses", "POST syncfunctiontriggers"],
            arm.Requests.Select(r => $"{r.Method} {(r.Path.Contains("/operationStatuses/", StringComparison.Ordinal) ? "operationStatuses" : r.Path.Contains("/serverfarms/", StringComparison.Ordinal) ? "serverfarms" : r.Path.EndsWith("syncfunctiontriggers", StringComparison.Ordinal) ? "syncfunctiontriggers" : "site")}"));

        arm.OperationOutcome = "Failed";
        var failed = new FunctionAppTarget(Subscription, Group, "neutral-" + Guid.NewGuid().ToString("N")[..10], "westeurope");
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => DeployAsync(arm, work, failed, queue));
        Assert.Contains("ended Failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conflict", error.Message, StringComparison.Ordinal);
        Assert.Null(await container.Store.GetAsync(FunctionsComputeBackend.RecordKey(failed.App)));
        await DeleteQueuesAsync(queue);
    }

    [Fact]
    public void With_an_account_url_the_host_storage_and_the_package_are_reached_by_the_apps_identity()
    {
        var storage = new BlobSettings("jobs", AccountUrl: new Uri("https://acct.blob.core.windows.net/"));
        Dictionary<string, string> settings = FunctionAppDeployer.AppSettings(storage, new Uri("https://acct.queue.core.windows.net/"), "calls",
            "https://acct.blob.core.windows.net/jobs/p.zip", 300, "digest", new Dictionary<string, string> { ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers" });

        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.Equal("https://acct.blob.core.windows.net/", settings["AzureWebJobsStorage__blobServiceUri"]);
        Assert.Equal("https://acct.queue.core.windows.net/", settings["AzureWebJobsStorage__queueServiceUri"]);
        Assert.Equal("SystemAssigned", settings["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"]);
        Assert.Equal("Neutral.Workers", settings["DOTNET_STARTUP_HOOKS"]);
    }

    [Fact]
    public async Task Self_deployment_names_the_missing_or_wrong_setting()
    {
        var none = container.Configuration(("Neutral:Azure:App", "x"));
        Assert.Equal("Neutral:Azure:SubscriptionId", (await Assert.ThrowsAsync<NeutralConfigurationException>(() => SelfDeployment.DeployAsync(none, null, default))).Key);

        var noGroup = container.Configuration(("Neutral:Azure:App", "x"), ("Neutral:Azure:SubscriptionId", Subscription));
        Assert.Equal("Neutral:Azure:ResourceGroup", (await Assert.ThrowsAsync<NeutralConfigurationException>(() => SelfDeployment.DeployAsync(noGroup, null, default))).Key);

        var plainHttp = container.Configuration(("Neutral:Azure:App", "x"), ("Neutral:Azure:SubscriptionId", Subscription), ("Neutral:Azure:ResourceGroup", Group),
            ("Neutral:Azure:ManagementUrl", "http://127.0.0.1:1/"));
        Assert.Equal("Neutral:Azure:ManagementUrl", (await Assert.ThrowsAsync<NeutralConfigurationException>(() => SelfDeployment.DeployAsync(plainHttp, null, default))).Key);

        // All settings right, but the test host is not a deployable build: refused, naming the publish commands.
        var complete = container.Configuration(("Neutral:Azure:App", "x"), ("Neutral:Azure:SubscriptionId", Subscription), ("Neutral:Azure:ResourceGroup", Group));
        var notPublished = await Assert.ThrowsAsync<InvalidOperationException>(() => SelfDeployment.DeployAsync(complete, null, default));
        Assert.Contains("--self-contained", notPublished.Message, StringComparison.Ordinal);
    }

    /// <summary>Deploys the test app (the test host's launcher as the handler) with the client options a user gets, on the emulator's endpoint.</summary>
    private async Task<FunctionAppDeployment> DeployAsync(ResourceManager arm, TempFolder work, FunctionAppTarget target, string queue, string token = Token, int timeoutSeconds = 120)
    {
        string publish = Path.Combine(work.Path, "publish-" + Guid.NewGuid().ToString("N")[..6]);
        string launcher = TestApp.Write(Path.Combine(work.Path, "launcher"));
        Directory.CreateDirectory(publish);
        File.Copy(Path.Combine(launcher, "handler"), Path.Combine(publish, "MyApp"), overwrite: true);
        byte[] zip = FunctionAppFiles.Package(publish, "MyApp", new FunctionAppOptions(TimeoutSeconds: 120));

        var options = new ManagementOptions { Endpoint = arm.Endpoint, PollInterval = TimeSpan.FromMilliseconds(10) };
        options.Transport = new HttpClientTransport(arm.TrustingHandler());
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
            ["NEUTRAL_WORKER_ASSEMBLIES"] = TestApp.Assemblies,
        };
        Uri queueService = new QueueServiceClient(container.ConnectionString).Uri;
        return await FunctionAppDeployer.DeployAsync(target, new StaticTokenCredential(token), container.Settings, queueService, queue, zip,
            DeployedTables.Of(Dispatch.RemoteDispatch.Functions), environment, timeoutSeconds, options);
    }

    private async Task DeleteQueuesAsync(string queue)
    {
        await new QueueClient(container.ConnectionString, queue).DeleteIfExistsAsync();
        await new QueueClient(container.ConnectionString, queue + "-poison").DeleteIfExistsAsync();
    }
}
