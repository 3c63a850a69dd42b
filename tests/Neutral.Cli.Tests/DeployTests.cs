using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Providers.Aws.Tests;
using Neutral.Testing;

namespace Neutral.Cli.Tests;

/// <summary>
/// <c>neutral deploy</c> as a user runs it: the MonteCarlo sample published by the tool, planned with <c>--dry-run</c>
/// (nothing sent), then deployed to the Lambda emulator's control plane, whose function is the published package
/// unzipped and started as <c>bootstrap</c>; <c>neutral doctor</c> then runs its probe in that function.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class DeployTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IAsyncLifetime
{
    private const string Role = "arn:aws:iam::123456789012:role/neutral-worker";
    private readonly TempFolder _app = new("neutral-deploy");
    private LambdaService _lambda = null!;

    public Task InitializeAsync()
    {
        _lambda = new LambdaService(bootstrap: null, new Dictionary<string, string>(), S3Bucket.AccessKey, sandboxes: 1, roleEnvironment: new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = S3Bucket.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = S3Bucket.SecretKey,
            ["AWS_REGION"] = "us-east-1",
        });
        AwsApp.Configure(_app.Path, bucket.Name, _lambda.Endpoint, ("Role", Role), ("FunctionTimeoutSeconds", "120"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _lambda.DisposeAsync();
        _app.Dispose();
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(args, _app.Path, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Deploy_plans_then_deploys_the_published_app_to_Lambda_and_doctor_runs_in_it()
    {
        string project = Path.Combine(PublishedApp.Repository(), "samples", "MonteCarlo");
        string output = Path.Combine(_app.Path, "out");
        (int Code, string Output, string Error) plan, deploy;
        // The sample is published by other test processes too (once, under this lock): one publish at a time.
        using (await PublishedApp.HoldAsync(project))
        {
            plan = await RunAsync("deploy", project, "--jit", "--dry-run", "-o", output);
            Assert.True(plan.Code == 0, plan.Output + plan.Error);
            Assert.Empty(_lambda.ControlRequests);

            deploy = await RunAsync("deploy", project, "--jit", "-o", output);
        }

        // The dry run: what would be sent, the package elided, no secret shown.
        Assert.Contains("Published in ", plan.Output, StringComparison.Ordinal);
        Assert.Contains("Dry run, nothing sent: MonteCarlo (JIT, self-contained linux-x64 on provided.al2023, memory 1024 MB, timeout 120 s)", plan.Output, StringComparison.Ordinal);
        Assert.Contains($"POST {_lambda.Endpoint}2015-03-31/functions  # CreateFunction", plan.Output, StringComparison.Ordinal);
        Assert.Contains($"PUT s3://{bucket.Name}/_neutral/deployments/tables/", plan.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(S3Bucket.SecretKey, plan.Output, StringComparison.Ordinal);

        // The deployment: created, and its request is the body the dry run showed.
        Assert.True(deploy.Code == 0, deploy.Output + deploy.Error);
        Assert.Contains("Created arn:aws:lambda:us-east-1:000000000000:function:neutral from MonteCarlo: JIT, self-contained linux-x64", deploy.Output, StringComparison.Ordinal);
        var create = _lambda.ControlRequests.Single(r => r.Method == "POST");
        Assert.Equal(PlannedRequests.Shown(create.Body), PlannedRequests.WithoutPackage(PlannedRequests.Body(plan.Output, "CreateFunction")));
        Assert.Contains(_lambda.ControlRequests, r => r.Method == "PUT" && r.Path.EndsWith("/event-invoke-config", StringComparison.Ordinal));

        // The deployed function serves the doctor's probe.
        var (code, doctor, error) = await RunAsync("doctor", "--timeout", "120");
        Assert.True(code == 0, doctor + error);
        Assert.Matches(@"call ran .*build \.NET [0-9.]+ \(JIT\), rid linux-x64, runtime aws", doctor);
        Assert.Contains("ok    deployment record", doctor, StringComparison.Ordinal);
    }
}

/// <summary><c>neutral deploy</c>'s refusals: one line each, exit code 2, before anything is built.</summary>
public sealed class DeployInputTests : IDisposable
{
    private readonly TempFolder _app = new("neutral-deploy-input");

    public void Dispose() => _app.Dispose();

    private async Task<(int Code, string Error)> RunAsync(string configuration, params string[] args)
    {
        File.WriteAllText(Path.Combine(_app.Path, "neutral.json"), configuration);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(args, _app.Path, output, error);
        Assert.Equal("", output.ToString());
        return (code, error.ToString());
    }

    [Fact]
    public async Task Local_compute_has_nothing_to_deploy()
    {
        File.WriteAllText(Path.Combine(_app.Path, "App.csproj"), "<Project />");
        var (code, error) = await RunAsync("{}", "deploy");
        Assert.Equal(2, code);
        Assert.Equal("neutral: Neutral:Compute is 'local': there is nothing to deploy (local workers are the app itself). Set Neutral:Compute to aws, azure or openwhisk (neutral init --provider aws writes a start).",
            error.TrimEnd());
    }

    [Fact]
    public async Task A_folder_without_a_project_or_with_two_is_refused()
    {
        const string Aws = """{ "Neutral": { "Compute": "aws", "Aws": { "Region": "us-east-1", "Bucket": "b", "AccessKeyId": "k", "SecretAccessKey": "s" } } }""";
        var (code, error) = await RunAsync(Aws, "deploy");
        Assert.Equal(2, code);
        Assert.StartsWith($"neutral: there is no project file in {_app.Path}", error, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_app.Path, "A.csproj"), "<Project />");
        File.WriteAllText(Path.Combine(_app.Path, "B.csproj"), "<Project />");
        (code, error) = await RunAsync(Aws, "deploy");
        Assert.Equal(2, code);
        Assert.Contains("has 2 project files (A.csproj, B.csproj): name the one to deploy.", error, StringComparison.Ordinal);

        (code, error) = await RunAsync(Aws, "deploy", "neutral.json");
        Assert.Equal(2, code);
        Assert.Equal("neutral: neutral.json is not a project file (.csproj, .fsproj, .vbproj).", error.TrimEnd());
    }
}
