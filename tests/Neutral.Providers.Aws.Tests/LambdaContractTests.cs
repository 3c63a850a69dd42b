using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Emulators;
using Neutral.Providers.Aws.Compute;
using Neutral.Testing;
using Neutral.Testing.Compute;

namespace Neutral.Providers.Aws.Tests;

/// <summary>The compute contract on the Lambda emulator, its bootstrap processes and Ceph RGW.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class LambdaContractTests(Xunit.Abstractions.ITestOutputHelper output) : ComputeBackendContract(output)
{
    protected override ComputeRig CreateRig() => new LambdaRig();
}

/// <summary>Lambda's stack: a bucket (on the restartable gateway <c>aws</c> when asked), the tables object a deployment stores, the emulated service.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class LambdaRig : PlatformRig<S3Bucket>
{
    private readonly TempFolder _function = new("neutral-function");
    private LambdaService _lambda = null!;

    public override string Platform => "Lambda";

    protected override S3Bucket CreateStore(bool restartable) => restartable ? new RestartableS3Bucket() : new S3Bucket();

    protected override async Task StartPlatformAsync(RigOptions options)
    {
        await TestFunction.PublishTablesAsync(Fixture.Store);
        Dictionary<string, string> environment = options.BrokenWorker ? TestFunction.Environment(assemblies: "Neutral.Providers.Aws") : TestFunction.Environment();
        _lambda = new LambdaService(TestFunction.Bootstrap(_function.Path), environment, S3Bucket.AccessKey, sandboxes: options.Workers);
    }

    public override IConfiguration Configuration(IEnumerable<(string Key, string Value)> extra) =>
        Fixture.Configuration([("Neutral:Compute", "aws"), ("Neutral:Aws:LambdaServiceUrl", _lambda.Endpoint.ToString()), .. extra]);

    public override void AddNeutral(IServiceCollection services, IConfiguration configuration) => services.AddNeutral(configuration).AddAws();

    public override int Invocations => _lambda.Invocations;

    public override int Running => _lambda.Running;

    public override int Completed => _lambda.Completed;

    public override int FailedInvocations => _lambda.Outcomes.Count(o => o != "response");

    public override int KillRunning() => _lambda.KillRunning();

    public override async Task AfterKillAsync()
    {
        await FakeClockDriver.WaitForAsync(() => _lambda.Completed == 1, "the killed invocation to end");
        Assert.Equal("exited", Assert.Single(_lambda.Outcomes));
    }

    public override void AssertKilledInvocationSettled() => Assert.Equal(["exited", "response"], _lambda.Outcomes);

    public override (string TypeName, IReadOnlyList<string> Fragments) LostAttemptFailure(string jobId) =>
        (typeof(TimeoutException).FullName!, ["the call ran past its 60 s timeout ([Remote(TimeoutSeconds = ...)] or Job:TimeoutSeconds): no status by the attempt's deadline", $"group /aws/lambda/neutral in us-east-1, for \"job {jobId} call 0 attempt 1\""]);

    public override void HoldAfter(int count) => _lambda.HoldAfter(count);

    public override void Release() => _lambda.Release();

    public override void LimitConcurrency(int limit) => _lambda.ConcurrencyLimit = limit;

    public override int Throttled => _lambda.Throttled;

    public override async Task DeployTablesAsync(IReadOnlyDictionary<string, string>? tables)
    {
        var environment = new Dictionary<string, string>(_lambda.Environment);
        if (tables is null)
        {
            environment.Remove(LambdaDeployer.TablesVariable);
        }
        else
        {
            string digest = LambdaDeployer.TablesDigest(tables);
            await Fixture.Store.TryCreateAsync(LambdaDeployer.TablesKey(digest), Encoding.UTF8.GetBytes(LambdaDeployer.TablesText(tables)));
            environment[LambdaDeployer.TablesVariable] = digest;
        }

        _lambda.Environment = environment;
    }

    public override string MissingDeploymentMessage => "was not deployed by Neutral";

    public override async Task<string> SendMalformedAsync()
    {
        using HttpClient http = LambdaComputeBackend.CreateClient(new LambdaSettings("us-east-1", "neutral", _lambda.Endpoint), S3Bucket.Credentials, TimeSpan.FromMinutes(1));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_lambda.Endpoint, "2015-03-31/functions/neutral/invocations"))
        {
            Content = new StringContent("""{"hello":"world"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Amz-Invocation-Type", "RequestResponse");
        using HttpResponseMessage response = await http.SendAsync(request);
        Assert.Equal("Unhandled", Assert.Single(response.Headers.GetValues("X-Amz-Function-Error")));
        Assert.Contains("Neutral.InvalidEvent", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        return _lambda.Outcomes.Single();
    }

    public override string MalformedOutcome => "error:Neutral.InvalidEvent";

    public override string? InitError => _lambda.InitErrors.FirstOrDefault();

    public override string ExpectedInitError => "Runtime.NoDispatchTables";

    protected override async ValueTask StopPlatformAsync()
    {
        if (_lambda is not null)
        {
            await _lambda.DisposeAsync();
        }

        _function.Dispose();
    }
}
