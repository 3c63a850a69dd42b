using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Emulators;
using Neutral.Providers.OpenWhisk.Compute;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>Deploying the worker as an action: the zip, the create-or-update request, and a job on what was deployed.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DeploymentTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";

    [Fact]
    public void The_package_has_the_executable_as_exec_at_its_root_executable_and_no_symbols()
    {
        using var published = new TempFolder("neutral-published");
        File.WriteAllText(Path.Combine(published.Path, "App"), "#!/bin/sh\n");
        File.WriteAllText(Path.Combine(published.Path, "App.dll"), "il");
        File.WriteAllText(Path.Combine(published.Path, "App.dbg"), "symbols");
        Directory.CreateDirectory(Path.Combine(published.Path, "runtimes"));
        File.WriteAllText(Path.Combine(published.Path, "runtimes", "lib.so"), "native");

        byte[] zip = OpenWhiskDeployer.Package(published.Path, "App");
        using var archive = new ZipArchive(new MemoryStream(zip));
        Assert.Equal(["App.dll", "exec", "runtimes/lib.so"], archive.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        Assert.Equal(Convert.ToUInt32("100755", 8), (uint)archive.GetEntry("exec")!.ExternalAttributes >> 16);
        Assert.Equal(Convert.ToUInt32("100644", 8), (uint)archive.GetEntry("App.dll")!.ExternalAttributes >> 16);
        Assert.Throws<FileNotFoundException>(() => OpenWhiskDeployer.Package(published.Path, "Missing"));
    }

    [Fact]
    public async Task A_deployed_action_runs_a_job_with_its_limits_init_variables_and_table_hashes_in_the_request()
    {
        using var action = new TempFolder("neutral-action");
        using var invoker = new TempFolder("neutral-invoker");
        await using var controller = new OpenWhiskController(exec: null, environment: null, invoker.Path, Key, containers: 2);
        var settings = new OpenWhiskSettings(controller.ApiHost, "_", "neutral", Key);

        // Before deployment the action does not exist.
        var store = new StoreLocation(OpenWhiskProvider.StoreKind, OpenWhiskProvider.LocationOf(S3Bucket.Settings, bucket.Name), Cloud.InternalPrefix);
        await using (var backend = new OpenWhiskComputeBackend(settings, store))
        {
            var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => backend.InvokeAsync(new InvocationEnvelope
            {
                JobId = "j", CallIndex = 0, FunctionId = "f", SignatureHash = InvocationEnvelope.FormatHash(1), Attempt = 1, Store = store,
            }).AsTask());
            Assert.Contains("deploy the worker first", missing.Message, StringComparison.Ordinal);
        }

        string folder = Path.GetDirectoryName(TestAction.Exec(action.Path))!;
        Dictionary<string, string> tables = RemoteDispatch.Functions.ToDictionary(f => f.Id, f => InvocationEnvelope.FormatHash(f.SignatureHash));
        string body = OpenWhiskDeployer.ActionBody(OpenWhiskDeployer.Package(folder, "exec"), new ActionLimits(TimeoutSeconds: 120, MemoryMb: 512), TestAction.Environment(), tables);
        await OpenWhiskDeployer.PutActionAsync(settings, body);

        var put = controller.LastPut!.Value;
        Assert.Equal("/api/v1/namespaces/_/actions/neutral?overwrite=true", put.PathAndQuery);
        using (JsonDocument sent = JsonDocument.Parse(put.Body))
        {
            JsonElement root = sent.RootElement;
            Assert.Equal("blackbox", root.GetProperty("exec").GetProperty("kind").GetString());
            Assert.True(root.GetProperty("exec").GetProperty("binary").GetBoolean());
            Assert.Equal(120_000, root.GetProperty("limits").GetProperty("timeout").GetInt32());
            Assert.Equal(512, root.GetProperty("limits").GetProperty("memory").GetInt32());
            Assert.Equal(1, root.GetProperty("limits").GetProperty("concurrency").GetInt32());
            Assert.Contains(root.GetProperty("parameters").EnumerateArray(),
                p => p.GetProperty("key").GetString() == "NEUTRAL_WORKER" && p.GetProperty("value").GetString() == "openwhisk" && p.GetProperty("init").GetBoolean());
            JsonElement[] annotations = root.GetProperty("annotations").EnumerateArray().ToArray();
            Assert.Equal([OpenWhiskDeployer.TablesAnnotation, OpenWhiskDeployer.ProvideApiKeyAnnotation], annotations.Select(a => a.GetProperty("key").GetString()));
            JsonElement annotation = annotations[0];
            // Without it, a cluster hands every activation the namespace key.
            Assert.Equal(JsonValueKind.False, annotations[1].GetProperty("value").ValueKind);
            string square = Remote.MinioFunctions.Square(1).Function.Id;
            Assert.Equal(InvocationEnvelope.FormatHash(Remote.MinioFunctions.Square(1).Function.SignatureHash), annotation.GetProperty("value").GetProperty(square).GetString());
        }

        // Neutral:OpenWhisk:ProvideApiKey (for Job:InvokeFrom=cloud) is the only way to hand the action its key.
        using (JsonDocument provided = JsonDocument.Parse(OpenWhiskDeployer.ActionBody([1], new ActionLimits { ProvideApiKey = true }, TestAction.Environment(), tables)))
        {
            JsonElement key = provided.RootElement.GetProperty("annotations").EnumerateArray().Single(a => a.GetProperty("key").GetString() == OpenWhiskDeployer.ProvideApiKeyAnnotation);
            Assert.Equal(JsonValueKind.True, key.GetProperty("value").ValueKind);
        }

        // A job runs on what was deployed (unzipped by the emulator's /init, started with the init parameters).
        OpenWhiskProvider.Register();
        await using Cloud cloud = Cloud.Connect(bucket.Configuration(
            ("Neutral:Compute", "openwhisk"), ("Neutral:OpenWhisk:ApiHost", controller.ApiHost.ToString()), ("Neutral:OpenWhisk:AuthKey", Key)));
        long[] squares = await cloud.MapAsync(Enumerable.Range(0, 10), i => Remote.MinioFunctions.Square(i));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i * i), squares);

        // The annotation is honoured: no api_key in /run, no __OW_API_KEY at /init.
        Assert.DoesNotContain("api_key", controller.LastRun!, StringComparison.Ordinal);
        Assert.False(controller.LastInitEnvironment!.ContainsKey("__OW_API_KEY"));
        Assert.Equal("/guest/neutral", JsonDocument.Parse(controller.LastRun!).RootElement.GetProperty("action_name").GetString());
    }
}
