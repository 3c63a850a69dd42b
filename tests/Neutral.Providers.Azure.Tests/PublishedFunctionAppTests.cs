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
/// What a user does: publish the MonteCarlo sample for linux-x64 (no worker project), let the published executable
/// deploy itself as the Function App (Resource Manager emulated over HTTPS, storage in Azurite), then run the sample as
/// the client with <c>Compute=azure, Storage=azureblob</c>: 1,000 calls served by the published executable, fetched by
/// the Functions-host emulator from the package URL the deployment set and started as the custom handler.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class PublishedFunctionAppTests(BlobContainer container) : IClassFixture<BlobContainer>
{
    [Fact]
    public async Task The_published_sample_deploys_itself_and_runs_a_1000_call_MonteCarlo_job_on_Functions()
    {
        using var work = new TempFolder("neutral-publish");
        await using var arm = await ResourceManager.StartAsync(FunctionAppDeploymentTests.Token, FunctionAppDeploymentTests.GroupId);
        string app = "neutral-mc-" + Guid.NewGuid().ToString("N")[..8];
        string queue = "calls-" + Guid.NewGuid().ToString("N")[..12];

        // Published once for every provider's test process (they run in parallel and would share the sample's obj folder).
        string project = Path.Combine(PublishedApp.Repository(), "samples", "MonteCarlo");
        PublishedWorker published = await PublishedApp.PublishOnceAsync(project, output => FunctionAppDeployer.PublishAsync(project, output));
        string executable = Path.Combine(published.Folder, published.Executable);

        var settings = new Dictionary<string, string>
        {
            ["NEUTRAL__AZURE__CONNECTIONSTRING"] = container.ConnectionString,
            ["NEUTRAL__AZURE__CONTAINER"] = container.Name,
            ["NEUTRAL__AZURE__APP"] = app,
            ["NEUTRAL__AZURE__QUEUE"] = queue,
        };

        // Deploy: the published executable deploys itself (the command the README gives), trusting the emulator's certificate.
        var (deployCode, deployOutput) = await PublishedApp.RunAsync(executable, work.Path, new Dictionary<string, string>(settings)
        {
            ["NEUTRAL_WORKER"] = "azure-deploy",
            ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
            ["NEUTRAL__AZURE__SUBSCRIPTIONID"] = FunctionAppDeploymentTests.Subscription,
            ["NEUTRAL__AZURE__RESOURCEGROUP"] = FunctionAppDeploymentTests.Group,
            ["NEUTRAL__AZURE__LOCATION"] = "westeurope",
            ["NEUTRAL__AZURE__MANAGEMENTURL"] = arm.Endpoint.ToString(),
            ["NEUTRAL__AZURE__MANAGEMENTTOKEN"] = FunctionAppDeploymentTests.Token,
            ["NEUTRAL__AZURE__FUNCTIONTIMEOUTSECONDS"] = "120",
            ["SSL_CERT_FILE"] = arm.CertificateFile,
        });
        Assert.True(deployCode == 0, deployOutput);
        string siteId = new FunctionAppTarget(FunctionAppDeploymentTests.Subscription, FunctionAppDeploymentTests.Group, app).SiteId;
        Assert.Contains($"Created {siteId} from MonteCarlo", deployOutput, StringComparison.Ordinal);
        Assert.Contains("timeout 120 s", deployOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobContainer.AccountKey, deployOutput, StringComparison.Ordinal);
        IReadOnlyDictionary<string, string> appSettings = arm.AppSettings(siteId);
        Assert.Equal("azure", appSettings["NEUTRAL_WORKER"]);
        Assert.Equal(published.NativeAot ? null : "Neutral.Workers", appSettings.GetValueOrDefault("DOTNET_STARTUP_HOOKS"));
        Assert.Equal("1", appSettings["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"]);

        // The platform: the package from the URL the deployment set, unzipped, started as the handler with the app settings.
        string wwwroot = Path.Combine(work.Path, "wwwroot");
        using (var http = new HttpClient())
        {
            ZipFile.ExtractToDirectory(new MemoryStream(await http.GetByteArrayAsync(new Uri(appSettings["WEBSITE_RUN_FROM_PACKAGE"]))), wwwroot);
        }

        await using (var functions = new FunctionsHost(wwwroot, appSettings, instances: 3))
        {
            // Run: the same executable as the client, configuration only.
            var (code, output) = await PublishedApp.RunAsync(executable, work.Path, new Dictionary<string, string>(settings)
            {
                ["NEUTRAL__COMPUTE"] = "azure",
                ["NEUTRAL__STORAGE"] = "azureblob",
            }, "--calls", "1000", "--samples", "20000");
            Assert.True(code == 0, output);
            Assert.Contains("on 'azure'", output, StringComparison.Ordinal);
            Assert.Matches(@"pi ~ 3\.1[0-9]+", output);
            Assert.True(functions.Invocations >= 1000, $"{functions.Invocations} invocations");
            Assert.True(functions.Outcomes.Count(o => o == "ok") >= 1000, string.Join(", ", functions.Outcomes.GroupBy(o => o).Select(g => $"{g.Key}: {g.Count()}")));
        }

        await new QueueClient(container.ConnectionString, queue).DeleteIfExistsAsync();
        await new QueueClient(container.ConnectionString, queue + "-poison").DeleteIfExistsAsync();
    }
}
