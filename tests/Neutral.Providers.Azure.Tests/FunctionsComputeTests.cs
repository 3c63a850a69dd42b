using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Azure.Storage.Queues;
using Neutral.Emulators;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

public static class QueueFunctions
{
    [Remote] public static long Square(int x) => (long)x * x;

    [Remote] public static int Fail(int x) => x == 3 ? throw new InvalidOperationException("three") : x;
}

/// <summary><c>Compute=azure, Storage=azureblob</c>: jobs through the app's storage queue in Azurite, the Functions-host emulator and the real handler.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class FunctionsComputeTests(BlobContainer container, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BlobContainer>, IAsyncLifetime
{
    private readonly TempFolder _app = new("neutral-function-app");
    private readonly string _queue = "neutral-calls-" + Guid.NewGuid().ToString("N")[..12];
    private FunctionsHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = new FunctionsHost(TestApp.Write(_app.Path), TestApp.Settings(container.ConnectionString, _queue), instances: 2);
        await TestApp.PublishRecordAsync(container.Store, "neutral-test");
    }

    public async Task DisposeAsync()
    {
        // Shown with a failed test: what the host did, and when.
        output.WriteLine(_host.Journal);
        await _host.DisposeAsync();
        await new QueueClient(container.ConnectionString, _queue).DeleteIfExistsAsync();
        await new QueueClient(container.ConnectionString, _queue + "-poison").DeleteIfExistsAsync();
        _app.Dispose();
    }

    private Cloud Connect(params (string Key, string Value)[] extra)
    {
        AzureProvider.Register();
        // No speculative backups: these tests count invocations, and a handler's cold start makes a straggler.
        return Cloud.Connect(container.Configuration([("Neutral:Compute", "azure"), ("Neutral:Azure:App", "neutral-test"), ("Neutral:Azure:Queue", _queue),
            ("Neutral:Job:Speculation", "false"), .. extra]));
    }

    private static async Task WaitForAsync(Func<bool> condition, string what) => await FakeClockDriver.WaitForAsync(condition, what);

    [Fact]
    public async Task Http_invocations_run_through_the_HTTP_function_with_the_function_key()
    {
        await using Cloud cloud = Connect(("Neutral:Azure:InvocationType", "Http"), ("Neutral:Azure:FunctionUrl", _host.HttpEndpoint.ToString()), ("Neutral:Azure:FunctionKey", _host.FunctionKey));
        Assert.Equal(new long[] { 0, 1, 4, 9 }, await cloud.MapAsync(Enumerable.Range(0, 4), i => Remote.QueueFunctions.Square(i)));
        // One HTTP invocation per call (a handler that died as it started made more: see docs/azure.md).
        Assert.True(_host.Invocations == 4, $"{_host.Invocations} invocations for 4 calls; outcomes: {string.Join(", ", _host.Outcomes)}");
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.QueueFunctions.Fail(i)));
        Assert.Equal("three", Assert.Single(error.Failures).Message);

        // A wrong key is refused by the host, naming the setting; a body that is not an invocation is a 400 from the handler.
        await using Cloud wrong = Connect(("Neutral:Azure:InvocationType", "Http"), ("Neutral:Azure:FunctionUrl", _host.HttpEndpoint.ToString()), ("Neutral:Azure:FunctionKey", "wrong"));
        var refused = await Assert.ThrowsAsync<RemoteJobException>(() => wrong.MapAsync(new[] { 1 }, i => Remote.QueueFunctions.Square(i)));
        Assert.Contains("refused the function key (401)", refused.Failures[0].Message, StringComparison.Ordinal);
        using var http = new HttpClient();
        var malformed = await http.PostAsync(new Uri(_host.HttpEndpoint, "api/invoke?code=" + _host.FunctionKey), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("not a Neutral invocation", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_s_estimated_cost_is_its_measured_time_at_the_billed_memory_plus_executions_and_storage_operations()
    {
        await using Cloud cloud = Connect(("Neutral:Azure:BilledMemoryMb", "1024"), ("Neutral:Azure:PricePerGbSecond", "1"), ("Neutral:Azure:PricePerMillionExecutions", "1000000"),
            ("Neutral:Azure:PricePerTenThousandBlobWrites", "0"), ("Neutral:Azure:PricePerTenThousandBlobReads", "0"), ("Neutral:Azure:PricePerTenThousandQueueOperations", "0"));
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.QueueFunctions.Square(i)));
        await job.GetResultsAsync();
        JobUsage usage = job.Usage;
        // Every invocation is a billed execution: one per call.
        Assert.Equal(4, usage.Invocations);
        Assert.Equal(4, usage.CompletedCalls);
        // $1 per GB-s at 1 GB, each call billed at least 100 ms; $1 per execution.
        decimal expected = Math.Max(usage.WorkerMilliseconds, 400) / 1000m + usage.Invocations;
        Assert.Equal(expected, job.EstimatedCost);
    }

    [Fact]
    public async Task Launcher_calls_write_the_job_s_messages_to_the_app_s_own_queue_from_inside_the_app()
    {
        // The handler sends with AzureWebJobsStorage and NEUTRAL_QUEUE, as the app's settings give them.
        await using Cloud cloud = Connect(("Neutral:Job:InvokeFrom", "cloud"));
        await Testing.Compute.CloudLaunchChecks.RunAsync(cloud, 600, () => _host.LauncherInvocations, () => _host.Invocations);
    }

    [Fact]
    public void An_HTTP_triggered_app_refuses_launches_from_the_cloud_saying_why()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(("Neutral:Job:InvokeFrom", "cloud"), ("Neutral:Azure:InvocationType", "Http"),
            ("Neutral:Azure:FunctionUrl", _host.HttpEndpoint.ToString()), ("Neutral:Azure:FunctionKey", _host.FunctionKey)));
        Assert.Contains("Neutral:Job:InvokeFrom", error.Message, StringComparison.Ordinal);
        Assert.Contains("holds no function key to invoke itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_queue_fails_naming_the_app_and_queue_and_what_to_do()
    {
        await using Cloud cloud = Connect(("Neutral:Azure:Queue", "no-such-queue"));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(new[] { 1 }, i => Remote.QueueFunctions.Square(i)));
        string message = error.Failures[0].Message;
        Assert.Contains("Function App neutral-test (queue no-such-queue)", message, StringComparison.Ordinal);
        Assert.Contains("deploy the worker first", message, StringComparison.Ordinal);
        Assert.Equal(0, _host.Invocations);
    }
}
