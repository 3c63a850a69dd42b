using System;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Providers.Aws.Compute;
using Neutral.Testing;

namespace Neutral.Providers.Aws.Tests;

public static class LambdaFunctions
{
    [Remote] public static long Square(int x) => (long)x * x;

    [Remote] public static int Fail(int x) => x == 3 ? throw new InvalidOperationException("three") : x;

    /// <summary>The trace the call runs in, as its code sees it: trace id and parent span id, or "none".</summary>
    [Remote]
    public static string TraceSeen(int i) =>
        System.Diagnostics.Activity.Current is { } span ? $"{span.TraceId.ToHexString()}/{span.ParentSpanId.ToHexString()}" : "none";

    /// <summary>Runs past Lambda's deadline in its first attempt (the runtime must stop it first); returns at once in a later one.</summary>
    [Remote]
    public static async Task<int> Overrun(int x, RemoteContext context)
    {
        if (context.Attempt == 1)
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        return x;
    }
}

/// <summary><c>Compute=aws, Storage=s3</c>: jobs through the Lambda emulator, its bootstrap processes and Ceph RGW.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class LambdaComputeTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private readonly TempFolder _function = new("neutral-function");
    private LambdaService _lambda = null!;

    public async Task InitializeAsync()
    {
        _lambda = new LambdaService(TestFunction.Bootstrap(_function.Path), TestFunction.Environment(), S3Bucket.AccessKey, sandboxes: 2);
        await TestFunction.PublishTablesAsync(bucket.Store);
    }

    public async Task DisposeAsync()
    {
        await _lambda.DisposeAsync();
        _function.Dispose();
    }

    private Cloud Connect(params (string Key, string Value)[] extra)
    {
        AwsProvider.Register();
        return Cloud.Connect(bucket.Configuration([
            ("Neutral:Compute", "aws"),
            ("Neutral:Aws:LambdaServiceUrl", _lambda.Endpoint.ToString()),
            .. extra]));
    }

    [Fact]
    public async Task A_map_runs_as_queued_invocations_in_warm_bootstrap_processes()
    {
        await using Cloud cloud = Connect();
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, 30).Select(i => Remote.LambdaFunctions.Square(i)));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i * i), await job.GetResultsAsync());
        Assert.Equal(30, _lambda.Invocations);
        Assert.All(job.Futures, f => Assert.StartsWith("lambda/sandbox-", f.Stats.WorkerHost, StringComparison.Ordinal));
        Assert.InRange(job.Futures.Select(f => f.Stats.WorkerHost).Distinct().Count(), 1, 2);

        // The invoke request: asynchronous, SigV4-signed for lambda with the configured key, the envelope as the event.
        var (path, headers, body) = _lambda.LastInvoke!.Value;
        Assert.Equal("/2015-03-31/functions/neutral/invocations", path);
        Assert.Equal("Event", headers["X-Amz-Invocation-Type"]);
        Assert.Matches($"^AWS4-HMAC-SHA256 Credential={S3Bucket.AccessKey}/[0-9]{{8}}/us-east-1/lambda/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{{64}}$", headers["Authorization"]);
        Assert.Contains("\"fn\":", body, StringComparison.Ordinal);
        Assert.DoesNotContain(S3Bucket.SecretKey, body, StringComparison.Ordinal);
        Assert.All(_lambda.Outcomes, o => Assert.Equal("response", o));
    }

    [Fact]
    public async Task Ten_calls_per_invocation_run_in_a_tenth_of_the_invokes_each_with_its_own_status()
    {
        await using Cloud cloud = Connect(("Neutral:Job:CallsPerInvocation", "10"));
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, 40).Select(i => Remote.LambdaFunctions.Square(i)));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i * i), await job.GetResultsAsync());

        // The pumps take what is queued, ten at most: 4 invokes, more when a pump found the queue short. The calls
        // after the first of each went in the event's "batch", and the worker ran each as its own attempt.
        Assert.InRange(_lambda.Invocations, 4, 20);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.Attempt));
        Assert.All(job.Futures, f => Assert.NotNull(f.Stats.WorkerEnd));
    }

    [Fact]
    public async Task Launcher_calls_invoke_the_job_from_inside_the_function_with_its_role()
    {
        // What a function's configuration would say for a private endpoint; the role's keys and region are Lambda's.
        _lambda.Environment = new System.Collections.Generic.Dictionary<string, string>(TestFunction.Environment()) { ["AWS_ENDPOINT_URL_LAMBDA"] = _lambda.InsideEndpoint.ToString() };
        // Lambda queues asynchronous invocations whatever runs: the emulator's limit on accepted, unfinished ones (1,000)
        // would be filled by what the launcher calls send while they hold both sandboxes (that case, a platform whose
        // concurrency counts queued invocations, is CloudLaunchTests' and the OpenWhisk tests').
        _lambda.ConcurrencyLimit = 100_000;
        await using Cloud cloud = Connect(("Neutral:Job:InvokeFrom", "cloud"));
        await Testing.Compute.CloudLaunchChecks.RunAsync(cloud, 1_200, () => _lambda.LauncherInvocations, () => _lambda.Invocations);
    }

    [Fact]
    public async Task A_traced_client_s_context_crosses_the_Lambda_event_into_the_call()
    {
        var stopped = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Neutral",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        await using Cloud cloud = Connect();
        RemoteJob<string> job = cloud.Submit(Enumerable.Range(0, 2).Select(i => Remote.LambdaFunctions.TraceSeen(i)));
        string[] seen = await job.GetResultsAsync();
        await job.Completion;
        bool Invoke(System.Diagnostics.Activity a, int i) => a.OperationName == "neutral.invoke" && (string?)a.GetTagItem("neutral.job.id") == job.JobId && (int)a.GetTagItem("neutral.call")! == i;
        // An invocation's span ends when its request is answered, which may come after the result is in the store.
        for (int wait = 0; wait < 500 && !(stopped.Any(a => Invoke(a, 0)) && stopped.Any(a => Invoke(a, 1))); wait++)
        {
            await Task.Delay(20);
        }

        for (int i = 0; i < 2; i++)
        {
            System.Diagnostics.Activity invoke = Assert.Single(stopped, a => Invoke(a, i));
            // The bootstrap process ran the call inside a span whose parent is the client's invocation.
            Assert.Equal($"{invoke.TraceId.ToHexString()}/{invoke.SpanId.ToHexString()}", seen[i]);
        }

        Assert.Matches("\"trace\":\"00-[0-9a-f]{32}-[0-9a-f]{16}-01\"", _lambda.LastInvoke!.Value.Body);
    }

    [Fact]
    public async Task A_job_s_estimated_cost_is_its_measured_worker_time_at_the_function_s_memory_plus_requests_at_the_price_table()
    {
        await using Cloud cloud = Connect();
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, 20).Select(i => Remote.LambdaFunctions.Square(i)));
        await job.GetResultsAsync();

        JobUsage usage = job.Usage;
        Assert.Equal((20, 20, 20), (usage.Calls, usage.Invocations, usage.CompletedCalls));
        long measured = job.Futures.Sum(f => (long)Math.Ceiling((f.Stats.WorkerEnd!.Value - f.Stats.WorkerStart!.Value).TotalMilliseconds));
        Assert.Equal(measured, usage.WorkerMilliseconds);

        // The function's memory as its configuration says (the emulator's: 512 MB), at the default us-east-1 prices.
        decimal expected = usage.WorkerMilliseconds / 1000m * 0.5m * 0.0000166667m + 20 * 0.20m / 1_000_000m
            + (1 + 20 * 2) * 0.005m / 1000m + 20 * 2 * 0.0004m / 1000m;
        Assert.Equal(expected, job.EstimatedCost, 15);

        // Another price table from configuration.
        await using Cloud priced = Connect(("Neutral:Aws:PricePerGbSecond", "1"), ("Neutral:Aws:PricePerMillionRequests", "0"),
            ("Neutral:Aws:PricePerThousandWrites", "0"), ("Neutral:Aws:PricePerThousandReads", "0"));
        RemoteJob<long> second = priced.Submit(Enumerable.Range(0, 3).Select(i => Remote.LambdaFunctions.Square(i)));
        await second.GetResultsAsync();
        Assert.Equal(second.Usage.WorkerMilliseconds / 1000m * 0.5m, second.EstimatedCost, 15);

        var bad = Assert.Throws<NeutralConfigurationException>(() => Connect(("Neutral:Aws:PricePerGbSecond", "0,5")));
        Assert.Equal("Neutral:Aws:PricePerGbSecond", bad.Key);
    }

    [Fact]
    public async Task RequestResponse_invocations_wait_for_the_call_and_user_failures_surface()
    {
        await using Cloud cloud = Connect(("Neutral:Aws:InvocationType", "RequestResponse"));
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.LambdaFunctions.Square(i)));
        Assert.Equal("RequestResponse", _lambda.LastInvoke!.Value.Headers["X-Amz-Invocation-Type"]);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.LambdaFunctions.Fail(i)));
        Assert.Equal("three", Assert.Single(error.Failures).Message);
    }

    [Fact]
    public async Task A_call_running_into_the_Lambda_deadline_is_stopped_by_the_runtime_and_retried()
    {
        _lambda.Timeout = TimeSpan.FromSeconds(3);
        // A lost first attempt would be retried at this job timeout: the test would still pass, slowly, and say why below.
        await using Cloud cloud = Connect(("Neutral:Job:TimeoutSeconds", "30"));
        RemoteJob<int> job = cloud.Submit([Remote.LambdaFunctions.Overrun(5)]);
        Assert.Equal(new[] { 5 }, await job.GetResultsAsync());
        Assert.Equal(2, job[0].Stats.Attempt);
        // The runtime answered before Lambda's deadline: no invocation timed out, no process was killed. The second
        // answer reaches the service after the call's status reaches the bucket (which ended the job): wait for it.
        await FakeClockDriver.WaitForAsync(() => _lambda.Completed == 2, "the second invocation's answer");
        Assert.Equal(["response", "response"], _lambda.Outcomes);
    }

    [Fact]
    public async Task Wrong_credentials_and_a_missing_function_fail_naming_the_cause()
    {
        var store = new Wire.StoreLocation(AwsProvider.StoreKind, AwsProvider.LocationOf(bucket.Settings), Cloud.InternalPrefix);
        var envelope = new Wire.InvocationEnvelope { JobId = "j", CallIndex = 0, FunctionId = "f", SignatureHash = Wire.InvocationEnvelope.FormatHash(1), Attempt = 1, Store = store };

        await using (var wrong = new LambdaComputeBackend(new LambdaSettings("us-east-1", "neutral", _lambda.Endpoint), store, new Amazon.Runtime.BasicAWSCredentials("AKIDWRONG", "wrong")))
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => wrong.InvokeAsync(envelope).AsTask());
            Assert.Contains("UnrecognizedClientException", refused.Message, StringComparison.Ordinal);
            Assert.Contains("lambda:InvokeFunction", refused.Message, StringComparison.Ordinal);
        }

        await using (var missing = new LambdaComputeBackend(new LambdaSettings("us-east-1", "other", _lambda.Endpoint), store, S3Bucket.Credentials))
        {
            var absent = await Assert.ThrowsAsync<InvalidOperationException>(() => missing.InvokeAsync(envelope).AsTask());
            Assert.Contains("function other in us-east-1", absent.Message, StringComparison.Ordinal);
            Assert.Contains("deploy the worker first", absent.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, _lambda.Invocations);
    }
}
