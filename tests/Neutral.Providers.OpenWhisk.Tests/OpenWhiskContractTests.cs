using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Emulators;
using Neutral.Testing;
using Neutral.Testing.Compute;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>The compute contract on the emulated controller and action proxies, the real action and Ceph RGW through the MinIO store.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class OpenWhiskContractTests(Xunit.Abstractions.ITestOutputHelper output) : ComputeBackendContract(output)
{
    protected override ComputeRig CreateRig() => new OpenWhiskRig();
}

/// <summary>OpenWhisk's stack: a bucket (on the restartable gateway <c>ow</c> when asked), the controller with the action annotated with its tables.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class OpenWhiskRig : PlatformRig<S3Bucket>
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";
    private readonly TempFolder _action = new("neutral-action");
    private readonly TempFolder _invoker = new("neutral-invoker");
    private OpenWhiskController _controller = null!;

    public override string Platform => "OpenWhisk";

    protected override S3Bucket CreateStore(bool restartable) => restartable ? new RestartableS3Bucket() : new S3Bucket();

    protected override Task StartPlatformAsync(RigOptions options)
    {
        Dictionary<string, string> environment = options.BrokenWorker ? TestAction.Environment(assemblies: "Neutral.Providers.OpenWhisk") : TestAction.Environment();
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), environment, _invoker.Path, Key, containers: options.Workers) { Tables = TestAction.Tables() };
        return Task.CompletedTask;
    }

    public override IConfiguration Configuration(IEnumerable<(string Key, string Value)> extra) =>
        Fixture.Configuration([("Neutral:Compute", "openwhisk"), ("Neutral:OpenWhisk:ApiHost", _controller.ApiHost.ToString()), ("Neutral:OpenWhisk:AuthKey", Key), .. extra]);

    public override void AddNeutral(IServiceCollection services, IConfiguration configuration) => services.AddNeutral(configuration).AddOpenWhisk();

    public override int Invocations => _controller.Invocations;

    public override int Running => _controller.Running;

    public override int Completed => _controller.Completed;

    public override int FailedInvocations => _controller.Records.Count(r => r.Contains("\"success\":false", StringComparison.Ordinal));

    public override int KillRunning() => _controller.KillRunning();

    public override Task AfterKillAsync() => FakeClockDriver.WaitForAsync(() => _controller.Completed == 1, "the activation record");

    // The proxy never restarts a dead exec: the invoker destroyed that container.
    public override void AssertKilledInvocationSettled() => Assert.Equal(1, _controller.Destroyed);

    public override (string TypeName, IReadOnlyList<string> Fragments) LostAttemptFailure(string jobId) =>
        (typeof(TimeoutException).FullName!, ["the call ran past its 60 s timeout ([Remote(TimeoutSeconds = ...)] or Job:TimeoutSeconds): no status by the attempt's deadline", "OpenWhisk activation",
            // The action proxy outlives its exec and answers the activation itself (400), so the record holds its text.
            "action developer error: command exited (the action's exec exited during or before this activation"]);

    public override void HoldAfter(int count) => _controller.HoldAfter(count);

    public override void Release() => _controller.Release();

    public override void LimitConcurrency(int limit) => _controller.ConcurrencyLimit = limit;

    public override int Throttled => _controller.Throttled;

    public override Task DeployTablesAsync(IReadOnlyDictionary<string, string>? tables)
    {
        _controller.Tables = tables;
        return Task.CompletedTask;
    }

    public override string MissingDeploymentMessage => "no 'neutral-tables' annotation";

    public override async Task<string> SendMalformedAsync()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_controller.ApiHost, $"api/v1/namespaces/_/actions/{_controller.Action}?blocking=true"))
        {
            Content = new StringContent("""{"hello":"world"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Key)));
        using HttpResponseMessage response = await http.SendAsync(request);
        await FakeClockDriver.WaitForAsync(() => _controller.Completed == 1, "the activation record");
        string record = _controller.Records.Single();
        Assert.Contains("not a Neutral invocation", record, StringComparison.Ordinal);
        return record.Contains("\"status\":\"application error\"", StringComparison.Ordinal) ? "application error" : record;
    }

    public override string MalformedOutcome => "application error";

    public override string? NoInitError => "the action's /init does not check the dispatch tables; a call the action cannot dispatch fails in its status (MissingDispatchTableException)";

    public override string? InitError => null;

    public override string ExpectedInitError => "";

    protected override async ValueTask StopPlatformAsync()
    {
        if (_controller is not null)
        {
            await _controller.DisposeAsync();
        }

        _action.Dispose();
        _invoker.Dispose();
    }
}
