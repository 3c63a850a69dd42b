using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Emulators;
using Neutral.Testing;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary><c>Compute=openwhisk, Storage=minio</c>: jobs through the controller emulator, its warm action processes and Ceph RGW.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class OpenWhiskComputeTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";
    private readonly TempFolder _action = new("neutral-action");
    private readonly TempFolder _invoker = new("neutral-invoker");
    private OpenWhiskController _controller = null!;

    public Task InitializeAsync()
    {
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), TestAction.Environment(), _invoker.Path, Key, containers: 2) { Tables = TestAction.Tables() };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _controller.DisposeAsync();
        _action.Dispose();
        _invoker.Dispose();
    }

    private Cloud Connect(params (string Key, string Value)[] extra)
    {
        OpenWhiskProvider.Register();
        return Cloud.Connect(bucket.Configuration([
            ("Neutral:Compute", "openwhisk"),
            ("Neutral:OpenWhisk:ApiHost", _controller.ApiHost.ToString()),
            ("Neutral:OpenWhisk:AuthKey", Key),
            .. extra]));
    }

    [Fact]
    public async Task An_action_given_its_key_launches_the_job_from_inside_it()
    {
        // No provide-api-key annotation: the invoker hands the key to each activation, as to an action deployed with
        // Neutral:OpenWhisk:ProvideApiKey=true; the launcher calls reach the controller at __OW_API_HOST. Four
        // containers: the two launcher calls hold two while the others run what they send.
        // The test action's own __OW_API_HOST (a dead address, for the tests that show the worker needs none) goes: the
        // container's, the controller's, stays.
        await _controller.DisposeAsync();
        var environment = TestAction.Environment();
        environment.Remove("__OW_API_HOST");
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), environment, _invoker.Path, Key, containers: 4) { Tables = TestAction.Tables() };
        await using Cloud cloud = Connect(("Neutral:OpenWhisk:ProvideApiKey", "true"), ("Neutral:Job:InvokeFrom", "cloud"));
        await Testing.Compute.CloudLaunchChecks.RunAsync(cloud, 600, () => _controller.LauncherInvocations, () => _controller.Invocations);
    }

    [Fact]
    public void An_action_deployed_without_its_key_refuses_launches_from_the_cloud_saying_what_to_set()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect(("Neutral:Job:InvokeFrom", "cloud")));
        Assert.Contains("Neutral:Job:InvokeFrom", error.Message, StringComparison.Ordinal);
        Assert.Contains("Neutral:OpenWhisk:ProvideApiKey is true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_map_runs_as_activations_in_warm_action_processes()
    {
        await using Cloud cloud = Connect();
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, 30).Select(i => Remote.MinioFunctions.Square(i)));
        long[] squares = await job.GetResultsAsync();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i * i), squares);
        Assert.Equal(30, _controller.Invocations);
        // Two warm containers served every call: at most two worker processes.
        Assert.InRange(job.Futures.Select(f => f.Stats.WorkerHost).Distinct().Count(), 1, 2);
        Assert.All(job.Futures, f => Assert.StartsWith("openwhisk/", f.Stats.WorkerHost, StringComparison.Ordinal));

        // The invoke request: non-blocking, Basic auth with the namespace key, the envelope as JSON parameters.
        var request = _controller.LastInvoke!.Value;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/v1/namespaces/_/actions/neutral?blocking=false", request.PathAndQuery);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Key)), request.Authorization);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Contains("\"fn\":", request.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(S3Bucket.Settings.SecretKey, request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_action_without_provide_api_key_false_gets_the_namespace_key_and_no_call_record_or_log_holds_it()
    {
        // The action given at start has no provide-api-key annotation: the invoker passes the key, as a real one would.
        await using Cloud cloud = Connect();
        Assert.Equal(new long[] { 0, 1, 4, 9 }, await cloud.MapAsync(Enumerable.Range(0, 4), i => Remote.MinioFunctions.Square(i)));

        using (var run = System.Text.Json.JsonDocument.Parse(_controller.LastRun!))
        {
            Assert.Equal(Key, run.RootElement.GetProperty("api_key").GetString());
            Assert.Equal("/guest/neutral", run.RootElement.GetProperty("action_name").GetString());
            foreach (string field in new[] { "action_version", "activation_id", "transaction_id", "deadline", "namespace" })
            {
                Assert.True(run.RootElement.TryGetProperty(field, out _), field);
            }
        }

        Assert.Equal(Key, _controller.LastInitEnvironment!["__OW_API_KEY"]);
        string secret = Key.Split(':')[1];
        Assert.All(_controller.Records, r => Assert.DoesNotContain(secret, r, StringComparison.Ordinal));
        Assert.All(_controller.ActivationLogs.Values.SelectMany(l => l), l => Assert.DoesNotContain(secret, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_map_runs_on_action_proxies_that_do_not_wait_for_the_ack()
    {
        await _controller.DisposeAsync();
        _controller = new OpenWhiskController(TestAction.Exec(_action.Path), TestAction.Environment(), _invoker.Path, Key, containers: 2, waitForAck: false) { Tables = TestAction.Tables() };
        await using Cloud cloud = Connect();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i * i), await cloud.MapAsync(Enumerable.Range(0, 10), i => Remote.MinioFunctions.Square(i)));
        Assert.False(_controller.WaitsForAck);
        Assert.Equal(0, _controller.Destroyed);
    }

    [Fact]
    public async Task A_wrong_key_fails_the_calls_naming_the_setting()
    {
        await using Cloud cloud = Connect(("Neutral:OpenWhisk:AuthKey", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong"), ("Neutral:Job:Retries", "0"));
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.MinioFunctions.Square(i)));
        Assert.All(error.Failures, f => Assert.Contains("Neutral:OpenWhisk:AuthKey", f.Message, StringComparison.Ordinal));
        Assert.Equal(0, _controller.Invocations);
    }

    [Theory]
    [InlineData("Neutral:OpenWhisk:ApiHost", "openwhisk.example.com", "http or https address")]
    [InlineData("Neutral:OpenWhisk:AuthKey", "no-colon", "uuid:key")]
    [InlineData("Neutral:OpenWhisk:Blocking", "sometimes", "true or false")]
    public void A_wrong_setting_fails_at_connect_naming_the_key(string key, string value, string why)
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Connect((key, value)));
        Assert.Equal(key, error.Key);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("no-colon", error.Message, StringComparison.Ordinal);
    }
}
