using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Emulators;
using Neutral.Testing;
using Neutral.Testing.Compute;

namespace Neutral.Providers.Azure.Tests;

/// <summary>The compute contract through the app's storage queue in Azurite, the Functions-host emulator and the real handler.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class FunctionsQueueContractTests(Xunit.Abstractions.ITestOutputHelper output) : ComputeBackendContract(output)
{
    protected override ComputeRig CreateRig() => new FunctionsRig(http: false);
}

/// <summary>The compute contract through the app's HTTP-triggered function on the Functions-host emulator.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class FunctionsHttpContractTests(Xunit.Abstractions.ITestOutputHelper output) : ComputeBackendContract(output)
{
    protected override ComputeRig CreateRig() => new FunctionsRig(http: true);
}

/// <summary>Azure Functions' stack: a container (on the restartable Azurite when asked), the app's deployment record, the emulated host.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class FunctionsRig(bool http) : PlatformRig<BlobContainer>
{
    private const string App = "neutral-contract";
    private readonly TempFolder _app = new("neutral-function-app");
    private readonly string _queue = "neutral-calls-" + Guid.NewGuid().ToString("N")[..12];
    private FunctionsHost _host = null!;
    private bool _started;

    public override string Platform => http ? "Functions (HTTP trigger)" : "Functions (queue trigger)";

    protected override BlobContainer CreateStore(bool restartable) => restartable ? new RestartableBlobContainer() : new BlobContainer();

    protected override async Task StartPlatformAsync(RigOptions options)
    {
        _started = true;
        await TestApp.PublishRecordAsync(Fixture.Store, App);
        Dictionary<string, string> settings = options.BrokenWorker
            ? TestApp.Settings(Fixture.ConnectionString, _queue, assemblies: "Neutral.Providers.Azure")
            : TestApp.Settings(Fixture.ConnectionString, _queue);
        _host = new FunctionsHost(TestApp.Write(_app.Path), settings, instances: options.Workers);
    }

    public override IConfiguration Configuration(IEnumerable<(string Key, string Value)> extra) =>
        Fixture.Configuration([
            ("Neutral:Compute", "azure"), ("Neutral:Azure:App", App), ("Neutral:Azure:Queue", _queue),
            .. http ? [("Neutral:Azure:InvocationType", "Http"), ("Neutral:Azure:FunctionUrl", _host.HttpEndpoint.ToString()), ("Neutral:Azure:FunctionKey", _host.FunctionKey)] : Array.Empty<(string, string)>(),
            .. extra]);

    public override void AddNeutral(IServiceCollection services, IConfiguration configuration) => services.AddNeutral(configuration).AddAzure();

    public override int Invocations => _host.Invocations;

    public override int Running => _host.Running;

    public override int Completed => _host.Outcomes.Count;

    public override int FailedInvocations => _host.Outcomes.Count(o => o != "ok");

    public override string Journal => _host?.Journal ?? "";

    public override int KillRunning() => _host.KillRunning();

    public override async Task AfterKillAsync()
    {
        if (http)
        {
            // The host answers the request 500: the function ran and failed.
            await FakeClockDriver.WaitForAsync(() => _host.Outcomes.Count == 1, "the killed invocation to end");
        }
        else
        {
            // The host fails the delivery, and at the message's next delivery moves it to the poison queue.
            await FakeClockDriver.WaitForAsync(() => _host.Poisoned == 1, "the killed invocation's message to be poisoned");
        }

        Assert.Equal("exited", _host.Outcomes.First());
    }

    public override void AssertKilledInvocationSettled()
    {
        // Through the queue, the killed attempt's message went to the poison queue instead of running again.
        Assert.Equal(http ? 0 : 1, _host.Poisoned);
    }

    public override (string TypeName, IReadOnlyList<string> Fragments) LostAttemptFailure(string jobId) =>
        (typeof(TimeoutException).FullName!, http
            ? ["the call ran past its 60 s timeout ([Remote(TimeoutSeconds = ...)] or Job:TimeoutSeconds): no status by the attempt's deadline", $"Application Insights traces for \"job {jobId} call 0 attempt 1\""]
            : ["the call ran past its 60 s timeout ([Remote(TimeoutSeconds = ...)] or Job:TimeoutSeconds): no status by the attempt's deadline", $"moved it to the poison queue {_queue}-poison", $"\"job {jobId} call 0 attempt 1\""]);

    public override string? NoHold => http ? "an HTTP trigger runs each request as it arrives: nothing waits in a queue to be held" : null;

    public override void HoldAfter(int count) => _host.HoldAfter(count);

    public override void Release() => _host.Release();

    public override string? NoThrottling => "the emulated host refuses nothing (a storage queue takes every message; its HTTP trigger has no concurrency limit)";

    public override Task DeployTablesAsync(IReadOnlyDictionary<string, string>? tables) =>
        tables is null ? Fixture.Store.DeleteAsync(Compute.FunctionsComputeBackend.RecordKey(App)) : TestApp.PublishRecordAsync(Fixture.Store, App, tables);

    public override string MissingDeploymentMessage => "has no deployment record";

    public override async Task<string> SendMalformedAsync()
    {
        if (http)
        {
            using var client = new HttpClient();
            using HttpResponseMessage malformed = await client.PostAsync(new Uri(_host.HttpEndpoint, "api/invoke?code=" + _host.FunctionKey), new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Contains("not a Neutral invocation", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            return "answered " + (int)malformed.StatusCode;
        }

        var queue = new QueueClient(Fixture.ConnectionString, _queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.SendMessageAsync("""{"hello":"world"}""");
        await FakeClockDriver.WaitForAsync(() => _host.Poisoned == 1, "the malformed message to be poisoned");
        Assert.Contains(_host.Logs, l => l.Contains("not a Neutral invocation", StringComparison.Ordinal));
        var poison = new QueueClient(Fixture.ConnectionString, _queue + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        Assert.Equal("""{"hello":"world"}""", (await poison.ReceiveMessageAsync()).Value.Body.ToString());
        return "poisoned after " + _host.Outcomes.Single();
    }

    public override string MalformedOutcome => http ? "answered 400" : "poisoned after failed:500";

    public override string? InitError => _host.Journal.Split('\n').FirstOrDefault(l => l.Contains("stderr", StringComparison.Ordinal) && l.Contains("[Remote]", StringComparison.Ordinal));

    public override string ExpectedInitError => "The Function App has no [Remote] methods registered";

    protected override async ValueTask StopPlatformAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_started)
        {
            await new QueueClient(Fixture.ConnectionString, _queue).DeleteIfExistsAsync();
            await new QueueClient(Fixture.ConnectionString, _queue + "-poison").DeleteIfExistsAsync();
        }

        _app.Dispose();
    }
}
