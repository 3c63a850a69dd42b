using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Neutral.Emulators;
using Neutral.Providers.Aws.Compute;
using Neutral.Testing;

namespace Neutral.Providers.Aws.Tests;

public static class RieFunctions
{
    /// <summary>Takes a moment, so that a second invoke arrives while the first runs.</summary>
    [Remote]
    public static async Task<int> Slow(int x)
    {
        await Task.Delay(300);
        return x;
    }

    /// <summary>Never returns in its first attempt, and does not observe its token: only a kill ends it.</summary>
    [Remote(TimeoutSeconds = 120)]
    public static async Task<int> IgnoresItsToken(int x, RemoteContext context)
    {
        if (context.Attempt == 1)
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
        }

        return x;
    }
}

/// <summary>
/// The client and the worker under the Lambda emulator's Runtime Interface Emulator mode (what a user meets trying a
/// function locally with AWS's RIE), and the points where Lambda itself answers differently.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class RuntimeInterfaceEmulatorTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private readonly TempFolder _function = new("neutral-function");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private LambdaService? _rie;
    private ServiceProvider? _services;

    public Task InitializeAsync() => TestFunction.PublishTablesAsync(bucket.Store);

    public async Task DisposeAsync()
    {
        await FakeClockDriver.DisposeAsync(_services, _time);
        if (_rie is not null)
        {
            await _rie.DisposeAsync();
        }

        _function.Dispose();
    }

    /// <summary>A bootstrap that writes its environment to <c>env.txt</c> beside it, then runs the test function.</summary>
    private string Bootstrap()
    {
        string inner = TestFunction.Bootstrap(_function.Path);
        string path = Path.Combine(_function.Path, "bootstrap-env");
        File.WriteAllText(path, $"#!/bin/sh\nenv > '{Path.Combine(_function.Path, "env.txt")}'\nexec '{inner}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private LambdaService StartRie(string assemblies = TestFunction.Assemblies, TimeSpan? timeout = null) =>
        _rie = LambdaService.StartRuntimeInterfaceEmulator(Bootstrap(), TestFunction.Environment(assemblies), timeout);

    /// <summary>The settings docs/aws.md gives for the RIE.</summary>
    private static (string, string)[] RieSettings(LambdaService rie) =>
    [
        ("Neutral:Compute", "aws"), ("Neutral:Aws:LambdaServiceUrl", rie.Endpoint.ToString()), ("Neutral:Aws:Function", "function"),
        ("Neutral:Aws:InvocationType", "RequestResponse"), ("Neutral:Aws:MaxConcurrency", "1"),
    ];

    private Cloud Connect(params (string Key, string Value)[] settings)
    {
        AwsProvider.Register();
        return Cloud.Connect(bucket.Configuration(settings));
    }

    [Fact]
    public async Task A_map_runs_under_the_RIE_one_RequestResponse_invoke_at_a_time_with_its_empty_session_token()
    {
        LambdaService rie = StartRie();
        await using Cloud cloud = Connect(RieSettings(rie));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i * i), await cloud.MapAsync(Enumerable.Range(0, 6), i => Remote.LambdaFunctions.Square(i)));
        Assert.False(rie.Crashed);
        Assert.Equal(6, rie.Invocations);
        Assert.All(rie.Outcomes, o => Assert.Equal("response", o));

        // The RIE's environment: its defaults, and the session token it passes empty when it has none. The worker's S3
        // client signed with the keys regardless (the map above read and wrote the bucket).
        string[] env = File.ReadAllLines(Path.Combine(_function.Path, "env.txt"));
        Assert.Contains("AWS_SESSION_TOKEN=", env);
        Assert.Contains("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/Functions", env);
        Assert.Contains("AWS_LAMBDA_LOG_STREAM_NAME=$LATEST", env);
        Assert.Contains("AWS_LAMBDA_FUNCTION_NAME=test_function", env);
    }

    [Fact]
    public async Task An_overlapping_invoke_takes_the_RIE_down_and_the_client_backs_off_instead_of_spending_its_retries_at_once()
    {
        LambdaService rie = StartRie();
        // The defaults (Event, 256 invokes in flight): what a user tries first.
        _services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddNeutral(bucket.Configuration([("Neutral:Compute", "aws"), ("Neutral:Aws:LambdaServiceUrl", rie.Endpoint.ToString()), ("Neutral:Aws:Function", "function")]))
            .AddAws()
            .Services.BuildServiceProvider();
        Cloud cloud = _services.GetRequiredService<Cloud>();
        DateTimeOffset start = _time.GetUtcNow();
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.RieFunctions.Slow(i)));
        Task<int[]> results = job.GetResultsAsync();
        await FakeClockDriver.UntilAsync(_time, () => results.IsCompleted, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(30));

        var error = await Assert.ThrowsAsync<RemoteJobException>(() => results);
        Assert.True(rie.Crashed, "no invoke overlapped: the test proves nothing");
        TimeSpan took = _time.GetUtcNow() - start;
        Assert.NotEmpty(error.Failures);
        RemoteException refused = error.Failures.First(f => f.Message.Contains("Could not connect", StringComparison.Ordinal));
        Assert.Contains($"Could not connect to Lambda at {rie.Endpoint}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Neutral:Aws:MaxConcurrency=1 and Neutral:Aws:InvocationType=RequestResponse", refused.Message, StringComparison.Ordinal);
        Assert.Contains("no connection in 9 tries over", refused.Message, StringComparison.Ordinal);
        // Each refused attempt backed off for at least half of 0.2 + 0.4 + ... + 25.6 s of the client's clock.
        Assert.True(took >= TimeSpan.FromSeconds(25), $"the job failed after {took.TotalSeconds:0.0} s: its attempts were not spaced");
    }

    [Fact]
    public async Task A_call_that_ignores_its_token_is_reported_as_timed_out_when_the_RIE_kills_it_not_at_the_client_s_deadline()
    {
        LambdaService rie = StartRie(timeout: TimeSpan.FromSeconds(5));
        // The attribute's 120 s would be the client's deadline: the failure must come from the RIE's answer long before.
        await using Cloud cloud = Connect([.. RieSettings(rie), ("Neutral:Job:Retries", "0")]);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(new[] { 1 }, i => Remote.RieFunctions.IgnoresItsToken(i)));
        RemoteException failure = Assert.Single(error.Failures);
        Assert.Equal("Neutral.InvokeFailed", failure.RemoteTypeName);
        Assert.Contains("ended the invocation without Neutral's answer: Task timed out after 5.00 seconds", failure.Message, StringComparison.Ordinal);
        Assert.Equal(["timeout"], rie.Outcomes);
    }

    [Fact]
    public async Task After_an_init_failure_the_RIE_answers_every_invoke_502_without_starting_the_runtime_again()
    {
        LambdaService rie = StartRie(assemblies: "Neutral.Providers.Aws");
        using var http = new HttpClient();
        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage response = await http.PostAsync(new Uri(rie.Endpoint, LambdaService.RieInvokePath.TrimStart('/')), new StringContent("{}"));
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("Neutral.NoDispatchTables", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal("Runtime.NoDispatchTables", Assert.Single(rie.InitErrors));
        Assert.Equal(["init-error"], rie.Outcomes);
    }

    [Fact]
    public async Task The_RIE_passes_an_empty_event_as_it_is_answers_in_plain_text_and_counts_the_deadline_from_the_invoke()
    {
        LambdaService rie = StartRie();
        using var http = new HttpClient();
        var invoke = new Uri(rie.Endpoint, LambdaService.RieInvokePath.TrimStart('/'));
        using (HttpResponseMessage response = await http.PostAsync(invoke, new ByteArrayContent([])))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
            Assert.False(response.Headers.Contains("X-Amz-Function-Error"));
            Assert.False(response.Headers.Contains("x-amzn-RequestId"));
            Assert.False(response.Headers.Contains("X-Amz-Executed-Version"));
            Assert.Contains("Neutral.InvalidEvent", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var (payload, headers, received) = rie.LastEvent!.Value;
        Assert.Empty(payload);
        Assert.False(headers.ContainsKey("Lambda-Runtime-Trace-Id"));
        Assert.Equal(received.AddSeconds(300).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), headers["Lambda-Runtime-Deadline-Ms"]);

        using var traced = new HttpRequestMessage(HttpMethod.Post, invoke) { Content = new StringContent("{}") };
        traced.Headers.TryAddWithoutValidation("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        using (HttpResponseMessage response = await http.SendAsync(traced))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", rie.LastEvent!.Value.Headers["Lambda-Runtime-Trace-Id"]);

        // An event over 6 MiB + 100 bytes reaches the runtime cut there (Lambda would answer 413).
        using (HttpResponseMessage response = await http.PostAsync(invoke, new ByteArrayContent(new byte[LambdaService.RiePayloadLimit + 4096])))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(LambdaService.RiePayloadLimit, rie.LastEvent!.Value.Payload.Length);

        using (HttpResponseMessage response = await http.PostAsync(new Uri(rie.Endpoint, "2015-03-31/functions/neutral/invocations"), new StringContent("{}")))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.False(rie.Crashed);
    }

    [Fact]
    public async Task Lambda_gives_an_empty_invoke_an_empty_object_always_traces_and_refuses_an_event_over_1_MB()
    {
        await using var lambda = new LambdaService(TestFunction.Bootstrap(_function.Path), TestFunction.Environment(), S3Bucket.AccessKey, sandboxes: 1);
        using HttpClient http = LambdaComputeBackend.CreateClient(new LambdaSettings("us-east-1", "neutral", lambda.Endpoint), S3Bucket.Credentials, TimeSpan.FromMinutes(1));
        var invoke = new Uri(lambda.Endpoint, "2015-03-31/functions/neutral/invocations");

        async Task<HttpResponseMessage> SendAsync(string type, byte[] body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, invoke) { Content = new ByteArrayContent(body) };
            request.Headers.Add("X-Amz-Invocation-Type", type);
            return await http.SendAsync(request);
        }

        using (HttpResponseMessage response = await SendAsync("RequestResponse", []))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Unhandled", Assert.Single(response.Headers.GetValues("X-Amz-Function-Error")));
            Assert.True(response.Headers.Contains("x-amzn-RequestId"));
        }

        var (payload, headers, _) = lambda.LastEvent!.Value;
        Assert.Equal("{}", Encoding.UTF8.GetString(payload));
        Assert.StartsWith("Root=1-", headers["Lambda-Runtime-Trace-Id"], StringComparison.Ordinal);

        byte[] large = new byte[LambdaService.EventPayloadLimit + 1];
        using (HttpResponseMessage response = await SendAsync("Event", large))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("RequestTooLargeException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
        }

        using (HttpResponseMessage response = await SendAsync("RequestResponse", large))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(2, lambda.Invocations);
    }
}
