using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Emulators;
using Neutral.Providers.Aws.Tests;
using Neutral.Testing;

namespace Neutral.Cli.Tests;

/// <summary>
/// <c>neutral doctor</c> on the local provider and on an emulated AWS (Ceph RGW and the Lambda emulator, whose function
/// is this test host started again as <c>bootstrap</c>): every step passes on a working stack, and a broken one stops at
/// the step that fails, with a hint naming the cause.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class DoctorTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private const string Assemblies = "Neutral.Providers.Aws;Neutral.Cli.Tests;Neutral.Testing.Support";
    private readonly TempFolder _app = new("neutral-doctor");
    private readonly TempFolder _function = new("neutral-doctor-function");
    private LambdaService _lambda = null!;

    public async Task InitializeAsync()
    {
        _lambda = new LambdaService(TestFunction.Bootstrap(_function.Path), TestFunction.Environment(Assemblies), S3Bucket.AccessKey, sandboxes: 1);
        await TestFunction.PublishTablesAsync(bucket.Store);
    }

    public async Task DisposeAsync()
    {
        await _lambda.DisposeAsync();
        _function.Dispose();
        _app.Dispose();
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(args, _app.Path, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private void Configure(params (string Key, string Value)[] aws) => AwsApp.Configure(_app.Path, bucket.Name, _lambda.Endpoint, aws);

    private static void AssertSteps(string output, params string[] steps)
    {
        foreach (string step in steps)
        {
            Assert.Matches(@$"(?m)^  ok +{step} +\d", output);
        }
    }

    [Fact]
    public async Task On_an_emulated_AWS_every_step_passes_and_the_probe_ran_in_the_function()
    {
        Configure();
        var (code, output, error) = await RunAsync("doctor", "--timeout", "60");
        Assert.True(code == 0, output + error);
        Assert.StartsWith("neutral doctor: compute aws, storage s3", output, StringComparison.Ordinal);
        AssertSteps(output, "connect", "store write", "store read", "store delete", "deployment record", "call", "  invoke", "  worker start", "  call ran", "  status seen", "  result", "cleanup");
        // The call's answer came from the function's process: the runtime it was started as, and its build.
        Assert.Matches(@"call ran .*runtime aws", output);
        Assert.Contains("All steps passed", output, StringComparison.Ordinal);
        Assert.Equal(1, _lambda.Invocations);
        // Nothing of the doctor's is left in the bucket but the deployment's tables.
        Assert.Empty(await bucket.Store.ListAsync(Cloud.InternalPrefix + "jobs/").ToListAsync());
        Assert.Empty(await bucket.Store.ListAsync(Cloud.InternalPrefix + "doctor/").ToListAsync());
    }

    [Fact]
    public async Task Status_of_a_job_on_Lambda_shows_the_cost_so_far_the_client_estimated()
    {
        Configure();
        string id;
        decimal estimated;
        await using (Cloud cloud = Cloud.Connect(bucket.Configuration([
            ("Neutral:Compute", "aws"), ("Neutral:Aws:LambdaServiceUrl", _lambda.Endpoint.ToString()), ("Neutral:Job:KeepData", "true"), ("Neutral:Job:CancelOnSignal", "false")])))
        {
            RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.ToolFunctions.Checked(i)));
            int[] results = await job.GetResultsAsync();
            Assert.Equal(new[] { 0, 10, 20 }, results);
            (id, estimated) = (job.JobId, job.EstimatedCost);
        }

        var (code, output, error) = await RunAsync("status", id);
        Assert.True(code == 0, output + error);
        Assert.True(estimated > 0);
        // The class's tests share the bucket: the kept job goes.
        Assert.Equal(0, (await RunAsync("clean", "--job", id)).Code);
        // From storage alone, the same figure the client had: its attempts, its calls' worker time, their requests.
        Assert.True(output.Contains(FormattableString.Invariant($"Cost so far: ${estimated:0.000000} at aws's list prices (3 attempts started, "), StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task Jobs_status_logs_plot_storage_replay_and_clean_read_a_job_kept_in_S3()
    {
        Configure();
        string id;
        await using (Cloud cloud = Cloud.Connect(bucket.Configuration([
            ("Neutral:Compute", "aws"), ("Neutral:Aws:LambdaServiceUrl", _lambda.Endpoint.ToString()), ("Neutral:Job:KeepData", "true"), ("Neutral:Job:CancelOnSignal", "false")])))
        {
            RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.ToolFunctions.Checked(i)));
            await Assert.ThrowsAsync<RemoteJobException>(() => job.GetResultsAsync());
            await job.Completion;
            id = job.JobId;
            await cloud.Storage.PutAsync("inputs/a.txt", "hello"u8.ToArray());
        }

        var (code, output, error) = await RunAsync("jobs");
        Assert.True(code == 0, error);
        Assert.Matches(@"│ 5\s+│ 4\s+│ 1\s+│ 0\s+│ 0\s+│", output.Split('\n').Single(l => l.Contains(id, StringComparison.Ordinal)));

        (code, output, error) = await RunAsync("status", id);
        Assert.True(code == 1, error);
        Assert.Matches(@"│ 3\s+│ failed\s+│ 1\s+│ [0-9.]+ s\s+│ lambda/sandbox-0-\w+\s+│ System\.ArgumentException: three is not allowed", output);

        (code, output, error) = await RunAsync("logs", id, "3");
        Assert.True(code == 0, error);
        Assert.Contains("checking 3", output, StringComparison.Ordinal);

        (code, _, error) = await RunAsync("plot", id, "-o", "t.html");
        Assert.True(code == 0, error);
        Assert.Contains("three is not allowed", await File.ReadAllTextAsync(Path.Combine(_app.Path, "t.html")), StringComparison.Ordinal);

        (code, output, error) = await RunAsync("storage", "ls", "inputs/");
        Assert.True(code == 0, error);
        Assert.Contains("inputs/a.txt", output, StringComparison.Ordinal);

        // The failed call, kept in the bucket, runs again in the app's process, which opens S3 as a worker does.
        (code, output, error) = await RunAsync("replay", id, "3", "--executable", TestApp.Script(_app.Path, Assemblies));
        Assert.True(code == 1, output + error);
        Assert.Contains("checking 3", output, StringComparison.Ordinal);
        Assert.Contains("The call threw System.ArgumentException: three is not allowed", error, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("clean", "--job", id);
        Assert.True(code == 0, error);
        Assert.Empty(await bucket.Store.ListAsync(Cloud.InternalPrefix + "jobs/" + id + "/").ToListAsync());
    }

    [Fact]
    public async Task Refused_credentials_stop_at_the_store_with_a_hint_about_credentials()
    {
        Configure(("SecretAccessKey", "not-the-secret"));
        var (code, output, _) = await RunAsync("doctor");
        Assert.True(code == 1, output);
        Assert.Matches(@"(?m)^  FAIL +store write ", output);
        Assert.Contains("cause: AmazonS3Exception SignatureDoesNotMatch HTTP 403", output, StringComparison.Ordinal);
        Assert.Contains("hint: the credentials were refused", output, StringComparison.Ordinal);
        Assert.DoesNotContain("deployment record", output, StringComparison.Ordinal);
        Assert.Equal(0, _lambda.Invocations);
    }

    [Fact]
    public async Task A_function_that_is_not_deployed_stops_at_the_deployment_record_and_says_to_deploy()
    {
        Configure(("Function", "not-deployed"));
        var (code, output, _) = await RunAsync("doctor");
        Assert.Equal(1, code);
        AssertSteps(output, "store write", "store read", "store delete");
        Assert.Matches(@"(?m)^  FAIL +deployment record ", output);
        Assert.Contains("hint: there is no deployed worker under the configured name: deploy it (neutral deploy)", output, StringComparison.Ordinal);
        Assert.Equal(0, _lambda.Invocations);
    }

    [Fact]
    public async Task A_worker_that_does_not_answer_in_time_fails_the_call_with_a_hint_about_its_log()
    {
        Configure();
        _lambda.HoldAfter(0);
        try
        {
            // On a fake clock: once the invocation is queued (and held), the call's deadline is passed by advancing it.
            var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
            var output = new StringWriter();
            var error = new StringWriter();
            Task<int> run = Tool.RunAsync(["doctor", "--timeout", "30"], _app.Path, output, error, time);
            while (_lambda.LastInvoke is null && !run.IsCompleted)
            {
                await Task.Delay(20);
            }

            for (int i = 0; i < 400 && !run.IsCompleted; i++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(10);
            }

            int code = await run;
            Assert.Equal(1, code);
            Assert.Matches(@"(?m)^  FAIL +call ", output.ToString());
            Assert.Contains("hint: no status came back in time", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("CloudWatch Logs, group /aws/lambda/neutral", output.ToString(), StringComparison.Ordinal);
            // The failed probe is not kept for replay.
            foreach (ObjectInfo kept in await bucket.Store.ListAsync(Cloud.InternalPrefix + "kept/").ToListAsync())
            {
                Assert.NotEqual("neutral:probe", Wire.WireJson.DeserializeKept((await bucket.Store.GetAsync(kept.Key))!).Call.FunctionId);
            }
        }
        finally
        {
            _lambda.Release();
        }
    }
}

/// <summary><c>neutral doctor</c> on the local provider, and the hints no emulated stack produces here.</summary>
public sealed class LocalDoctorTests : IDisposable
{
    private readonly TempFolder _app = new("neutral-doctor-local");

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task On_the_local_provider_every_step_passes_in_a_worker_process()
    {
        File.WriteAllText(Path.Combine(_app.Path, "neutral.json"), """{ "Neutral": { "Local": { "Workers": 1, "ForwardOutput": false } } }""");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(["doctor"], _app.Path, output, error);
        Assert.True(code == 0, output.ToString() + error);
        string text = output.ToString();
        Assert.Matches(@"(?m)^  -     deployment record +local compute starts its workers itself", text);
        Assert.Matches(@"call ran .*runtime local", text);
        Assert.Contains("All steps passed", text, StringComparison.Ordinal);
        // Its objects are gone: only the store's own folders are left.
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_app.Path, ".neutral"), "*", SearchOption.AllDirectories),
            f => f.Contains("/doctor/", StringComparison.Ordinal) || f.Contains("/jobs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_malformed_configuration_is_one_line_and_exit_code_2()
    {
        File.WriteAllText(Path.Combine(_app.Path, "neutral.json"), """{ "Neutral": { "Compute": "lambda" } }""");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(["doctor"], _app.Path, output, error);
        Assert.Equal(2, code);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
        Assert.StartsWith("neutral: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("lambda", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_stale_worker_and_a_throttled_invoke_have_their_own_hints()
    {
        var options = new NeutralOptions { Compute = "aws" };
        Assert.Contains("redeploy it from this build (neutral deploy)",
            DoctorHints.For("call", new StaleWorkerException("neutral:probe", 1, null), options), StringComparison.Ordinal);
        Assert.Contains("the platform throttled the invoke",
            DoctorHints.For("call", new ThrottledException("Rate exceeded"), options), StringComparison.Ordinal);
        Assert.Contains("CloudWatch Logs, group /aws/lambda/neutral",
            DoctorHints.For("call", new TimeoutException("no status"), options), StringComparison.Ordinal);
    }
}

/// <summary>An app folder configured for the emulated AWS stack, as a user's neutral.json would be.</summary>
internal static class AwsApp
{
    /// <summary>Writes <c>neutral.json</c>: AWS on the test bucket and the Lambda emulator, with <paramref name="aws"/> adding or overriding keys.</summary>
    public static void Configure(string folder, string bucket, Uri lambda, params (string Key, string Value)[] aws)
    {
        var section = new Dictionary<string, string>
        {
            ["Region"] = "us-east-1",
            ["Bucket"] = bucket,
            ["ServiceUrl"] = S3Bucket.ServiceUrl.ToString(),
            ["AccessKeyId"] = S3Bucket.AccessKey,
            ["SecretAccessKey"] = S3Bucket.SecretKey,
            ["LambdaServiceUrl"] = lambda.ToString(),
        };
        foreach (var (key, value) in aws)
        {
            section[key] = value;
        }

        File.WriteAllText(Path.Combine(folder, "neutral.json"), JsonSerializer.Serialize(new { Neutral = new { Compute = "aws", Storage = "s3", Aws = section } }));
    }
}
