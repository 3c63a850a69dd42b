using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Providers.OpenWhisk.Compute;
using Neutral.Testing;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// The published sample on OpenWhisk: deployed as the action (NativeAOT), its calls served by the published executable
/// in the emulator's action containers, against Ceph RGW.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync.")]
public sealed class PublishedActionTests(S3Bucket bucket) : PublishedSampleTests, IClassFixture<S3Bucket>
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";
    private readonly TempFolder _invoker = new("neutral-invoker");
    private OpenWhiskController _controller = null!;

    protected override string Compute => "openwhisk";

    protected override string Storage => "minio";

    protected override Task<PublishedWorker> PublishAsync(string project, string output) => OpenWhiskDeployer.PublishAsync(project, output);

    protected override Task StartAsync()
    {
        _controller = new OpenWhiskController(exec: null, environment: null, _invoker.Path, Key, containers: 4);
        return Task.CompletedTask;
    }

    protected override Dictionary<string, string> Settings() => new()
    {
        ["NEUTRAL__OPENWHISK__APIHOST"] = _controller.ApiHost.ToString(),
        ["NEUTRAL__OPENWHISK__AUTHKEY"] = Key,
        ["NEUTRAL__MINIO__ENDPOINT"] = S3Bucket.Settings.Endpoint,
        ["NEUTRAL__MINIO__BUCKET"] = bucket.Name,
        ["NEUTRAL__MINIO__ACCESSKEY"] = S3Bucket.Settings.AccessKey,
        ["NEUTRAL__MINIO__SECRETKEY"] = S3Bucket.Settings.SecretKey,
    };

    protected override Dictionary<string, string> DeploymentSettings() => new()
    {
        ["NEUTRAL__OPENWHISK__ACTIONTIMEOUTSECONDS"] = "120",
    };

    // NativeAOT is tried first, and taken: the provider (its store signs its own S3 requests) has no trimming or AOT
    // warning to send it to the self-contained JIT build.
    protected override void CheckPublished(PublishedWorker published)
    {
        Assert.True(published.NativeAot, "the sample fell back to the JIT: " + published.WhyNotNativeAot);
        Assert.Null(published.WhyNotNativeAot);
    }

    protected override void CheckPlanBeforeDeployment(string plan)
    {
        Assert.Null(_controller.LastPut);
        Assert.DoesNotContain(S3Bucket.Settings.SecretKey, plan, StringComparison.Ordinal);
        Assert.Contains("/api/v1/namespaces/_/actions/neutral?overwrite=true  # create or update the action", plan, StringComparison.Ordinal);
    }

    protected override void CheckPlanAgainstDeployment(string plan) =>
        Assert.Equal(PlannedRequests.Shown(_controller.LastPut!.Value.Body), PlannedRequests.WithoutPackage(PlannedRequests.Body(plan, "create or update the action")));

    protected override Task CheckDeploymentAsync(PublishedWorker published, string output)
    {
        Assert.Contains("Deployed MonteCarlo as action 'neutral' in namespace '_'", output, StringComparison.Ordinal);
        Assert.Contains("NativeAOT linux-x64", output, StringComparison.Ordinal);
        using JsonDocument action = JsonDocument.Parse(_controller.LastPut!.Value.Body);
        Assert.Equal(120_000, action.RootElement.GetProperty("limits").GetProperty("timeout").GetInt32());
        JsonElement tables = action.RootElement.GetProperty("annotations")[0].GetProperty("value");
        Assert.Contains(tables.EnumerateObject(), f => f.Name.StartsWith("MonteCarlo.PiEstimator.CountInside(", StringComparison.Ordinal));
        var parameters = action.RootElement.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString());
        Assert.Equal("openwhisk", parameters["NEUTRAL_WORKER"]);
        Assert.False(parameters.ContainsKey("DOTNET_STARTUP_HOOKS"), "a NativeAOT action has no startup hook to run");
        Assert.Equal(S3Bucket.Settings.AccessKey, parameters[OpenWhiskProvider.AccessKeyVariable]);
        Assert.False(parameters.ContainsKey("NEUTRAL__OPENWHISK__AUTHKEY"), "the namespace key went into the action");

        // The action's exec is the NativeAOT binary itself: an ELF executable, with no runtime or IL beside it.
        byte[] zip = Convert.FromBase64String(action.RootElement.GetProperty("exec").GetProperty("code").GetString()!);
        using var archive = new ZipArchive(new MemoryStream(zip));
        ZipArchiveEntry exec = archive.GetEntry("exec") ?? throw new InvalidOperationException("the zip has no exec at its root");
        byte[] magic = new byte[4];
        using (Stream stream = exec.Open())
        {
            stream.ReadExactly(magic);
        }

        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, magic);
        Assert.DoesNotContain(archive.Entries, e => e.Name is "libcoreclr.so" or "MonteCarlo.dll" or "Neutral.dll" or "Neutral.Providers.OpenWhisk.dll");
        Assert.True(zip.Length < 20 * 1024 * 1024, $"the NativeAOT action's zip is {zip.Length / 1048576.0:0.0} MiB");
        return Task.CompletedTask;
    }

    protected override void CheckRun() => Assert.True(_controller.Invocations >= 1000, $"{_controller.Invocations} invocations");

    protected override async Task StopAsync()
    {
        if (_controller is not null)
        {
            await _controller.DisposeAsync();
        }

        _invoker.Dispose();
    }

    [Fact]
    public async Task Deploying_from_a_framework_dependent_build_is_refused_with_the_publish_command()
    {
        // The test host is framework-dependent (dotnet exec): an action could not run it.
        OpenWhiskProvider.Register();
        var configuration = bucket.Configuration(("Neutral:OpenWhisk:ApiHost", "http://127.0.0.1:1/"), ("Neutral:OpenWhisk:AuthKey", Key));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SelfDeployment.DeployAsync(configuration, default));
        Assert.Contains("self-contained or NativeAOT publish for linux-x64", error.Message, StringComparison.Ordinal);
    }
}
