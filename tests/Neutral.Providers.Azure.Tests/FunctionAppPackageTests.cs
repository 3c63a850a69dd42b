using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Azure.Storage.Queues;
using Neutral.Emulators;
using Neutral.Providers.Azure.Compute;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

/// <summary>The Function App's zip package: its layout, and the emulated host running a job from it once unzipped.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FunctionAppPackageTests(BlobContainer container) : IClassFixture<BlobContainer>
{
    [Fact]
    public async Task The_package_has_the_handler_and_the_app_files_at_its_root_and_the_host_runs_a_job_from_it()
    {
        using var work = new TempFolder("neutral-package");
        // A publish folder: the app's executable under its own name (here the test host's launcher) and a library beside it.
        string publish = Directory.CreateDirectory(Path.Combine(work.Path, "publish")).FullName;
        string launcher = TestApp.Write(Path.Combine(work.Path, "launcher"));
        File.Copy(Path.Combine(launcher, "handler"), Path.Combine(publish, "MyApp"));
        File.WriteAllText(Path.Combine(publish, "MyApp.pdb"), "symbols");
        File.WriteAllText(Path.Combine(publish, "Lib.dll"), "library");

        byte[] zip = FunctionAppFiles.Package(publish, "MyApp", new FunctionAppOptions(TimeoutSeconds: 120, BatchSize: 4, NewBatchThreshold: 2));

        using (var archive = new ZipArchive(new MemoryStream(zip)))
        {
            Assert.Equal(["Lib.dll", "call/function.json", "handler", "host.json", "invoke/function.json"], archive.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
            Assert.Equal(Convert.ToInt32("100755", 8), (archive.GetEntry("handler")!.ExternalAttributes >> 16) & 0xFFFF);
            using JsonDocument host = JsonDocument.Parse(archive.GetEntry("host.json")!.Open());
            Assert.Equal("handler", host.RootElement.GetProperty("customHandler").GetProperty("description").GetProperty("defaultExecutablePath").GetString());
            Assert.Equal("00:02:00", host.RootElement.GetProperty("functionTimeout").GetString());
            JsonElement queues = host.RootElement.GetProperty("extensions").GetProperty("queues");
            Assert.Equal(4, queues.GetProperty("batchSize").GetInt32());
            Assert.Equal(1, queues.GetProperty("maxDequeueCount").GetInt32());
        }

        // Unzipped where the host puts it, the package runs a job.
        string site = Path.Combine(work.Path, "wwwroot");
        ZipFile.ExtractToDirectory(new MemoryStream(zip), site);
        string queue = "neutral-calls-" + Guid.NewGuid().ToString("N")[..12];
        await TestApp.PublishRecordAsync(container.Store, "packaged");
        await using (var functions = new FunctionsHost(site, TestApp.Settings(container.ConnectionString, queue, timeoutSeconds: 120), instances: 1))
        {
            AzureProvider.Register();
            await using Cloud cloud = Cloud.Connect(container.Configuration(("Neutral:Compute", "azure"), ("Neutral:Azure:App", "packaged"), ("Neutral:Azure:Queue", queue)));
            Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.QueueFunctions.Square(i)));
        }

        await new QueueClient(container.ConnectionString, queue).DeleteIfExistsAsync();
    }
}
