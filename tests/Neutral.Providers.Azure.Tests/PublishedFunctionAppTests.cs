using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using Azure.Storage.Queues;
using Neutral.Emulators;
using Neutral.Providers.Azure.Compute;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// The published sample on Azure Functions: deployed as the Function App (Resource Manager emulated over HTTPS, storage
/// in Azurite), its calls served by the published executable, fetched by the Functions-host emulator from the package
/// URL the deployment set and started as the custom handler.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync.")]
public sealed class PublishedFunctionAppTests(BlobContainer container) : PublishedSampleTests, IClassFixture<BlobContainer>
{
    private readonly string _app = "neutral-mc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _queue = "calls-" + Guid.NewGuid().ToString("N")[..12];
    private ResourceManager _arm = null!;
    private FunctionsHost? _functions;

    protected override string Compute => "azure";

    protected override string Storage => "azureblob";

    protected override Task<PublishedWorker> PublishAsync(string project, string output) => FunctionAppDeployer.PublishAsync(project, output);

    protected override async Task StartAsync() => _arm = await ResourceManager.StartAsync(FunctionAppDeploymentTests.Token, FunctionAppDeploymentTests.GroupId);

    protected override Dictionary<string, string> Settings() => new()
    {
        ["NEUTRAL__AZURE__CONNECTIONSTRING"] = container.ConnectionString,
        ["NEUTRAL__AZURE__CONTAINER"] = container.Name,
        ["NEUTRAL__AZURE__APP"] = _app,
        ["NEUTRAL__AZURE__QUEUE"] = _queue,
    };

    // Trusting the emulator's certificate.
    protected override Dictionary<string, string> DeploymentSettings() => new()
    {
        ["NEUTRAL__AZURE__SUBSCRIPTIONID"] = FunctionAppDeploymentTests.Subscription,
        ["NEUTRAL__AZURE__RESOURCEGROUP"] = FunctionAppDeploymentTests.Group,
        ["NEUTRAL__AZURE__LOCATION"] = "westeurope",
        ["NEUTRAL__AZURE__MANAGEMENTURL"] = _arm.Endpoint.ToString(),
        ["NEUTRAL__AZURE__MANAGEMENTTOKEN"] = FunctionAppDeploymentTests.Token,
        ["NEUTRAL__AZURE__FUNCTIONTIMEOUTSECONDS"] = "120",
        ["SSL_CERT_FILE"] = _arm.CertificateFile,
    };

    protected override void CheckPlanBeforeDeployment(string plan)
    {
        Assert.Empty(_arm.Requests);
        Assert.DoesNotContain(BlobContainer.AccountKey, plan, StringComparison.Ordinal);
        Assert.Contains("If it does not exist:", plan, StringComparison.Ordinal);
    }

    protected override void CheckPlanAgainstDeployment(string plan)
    {
        string siteId = new FunctionAppTarget(FunctionAppDeploymentTests.Subscription, FunctionAppDeploymentTests.Group, _app).SiteId;
        ArmRequest site = _arm.Requests.Single(r => r.Method == "PUT" && r.Path == siteId);
        Assert.Equal(PlannedRequests.Shown(site.Body), PlannedRequests.Body(plan, "the Function App with its settings"));
    }

    protected override async Task CheckDeploymentAsync(PublishedWorker published, string output)
    {
        string siteId = new FunctionAppTarget(FunctionAppDeploymentTests.Subscription, FunctionAppDeploymentTests.Group, _app).SiteId;
        Assert.Contains($"Created {siteId} from MonteCarlo", output, StringComparison.Ordinal);
        Assert.Contains("timeout 120 s", output, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobContainer.AccountKey, output, StringComparison.Ordinal);
        IReadOnlyDictionary<string, string> appSettings = _arm.AppSettings(siteId);
        Assert.Equal("azure", appSettings["NEUTRAL_WORKER"]);
        Assert.Equal(published.NativeAot ? null : "Neutral.Workers", appSettings.GetValueOrDefault("DOTNET_STARTUP_HOOKS"));
        Assert.Equal("1", appSettings["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"]);

        // The platform: the package from the URL the deployment set, unzipped, started as the handler with the app settings.
        string wwwroot = Path.Combine(WorkFolder, "wwwroot");
        using (var http = new HttpClient())
        {
            ZipFile.ExtractToDirectory(new MemoryStream(await http.GetByteArrayAsync(new Uri(appSettings["WEBSITE_RUN_FROM_PACKAGE"]))), wwwroot);
        }

        _functions = new FunctionsHost(wwwroot, appSettings, instances: 3);
    }

    protected override void CheckRun()
    {
        FunctionsHost functions = _functions!;
        Assert.True(functions.Invocations >= 1000, $"{functions.Invocations} invocations");
        Assert.True(functions.Outcomes.Count(o => o == "ok") >= 1000, string.Join(", ", functions.Outcomes.GroupBy(o => o).Select(g => $"{g.Key}: {g.Count()}")));
    }

    protected override async Task StopAsync()
    {
        if (_functions is not null)
        {
            await _functions.DisposeAsync();
        }

        if (_arm is not null)
        {
            await _arm.DisposeAsync();
        }

        await new QueueClient(container.ConnectionString, _queue).DeleteIfExistsAsync();
        await new QueueClient(container.ConnectionString, _queue + "-poison").DeleteIfExistsAsync();
    }
}
