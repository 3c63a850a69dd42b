using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Providers.Aws.Compute;
using Neutral.Testing;

namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// What a user does: publish the MonteCarlo sample for linux-x64 (no worker project), let the published executable
/// deploy itself as the Lambda function, then run the sample as the client with <c>Compute=aws, Storage=s3</c>: 1,000
/// calls served by the published executable, unzipped by the Lambda emulator and started as <c>bootstrap</c>, against
/// Ceph RGW.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class PublishedFunctionTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private const string Role = "arn:aws:iam::123456789012:role/neutral-worker";

    [Fact]
    public async Task The_published_sample_deploys_itself_and_runs_a_1000_call_MonteCarlo_job_on_Lambda()
    {
        using var work = new TempFolder("neutral-publish");
        await using var lambda = new LambdaService(bootstrap: null, new Dictionary<string, string>(), S3Bucket.AccessKey, sandboxes: 4, roleEnvironment: new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = S3Bucket.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = S3Bucket.SecretKey,
            ["AWS_REGION"] = "us-east-1",
        });

        // Published once for both providers' test processes (they run in parallel and would share the sample's obj folder).
        PublishedWorker published = await PublishedApp.PublishOnceAsync(Path.Combine(PublishedApp.Repository(), "samples", "MonteCarlo"),
            output => LambdaDeployer.PublishAsync(Path.Combine(PublishedApp.Repository(), "samples", "MonteCarlo"), output));
        Assert.Equal("MonteCarlo", published.Executable);
        string app = Path.Combine(published.Folder, published.Executable);

        var settings = new Dictionary<string, string>
        {
            ["NEUTRAL__AWS__REGION"] = "us-east-1",
            ["NEUTRAL__AWS__BUCKET"] = bucket.Name,
            ["NEUTRAL__AWS__SERVICEURL"] = S3Bucket.ServiceUrl.ToString(),
            ["NEUTRAL__AWS__ACCESSKEYID"] = S3Bucket.AccessKey,
            ["NEUTRAL__AWS__SECRETACCESSKEY"] = S3Bucket.SecretKey,
            ["NEUTRAL__AWS__LAMBDASERVICEURL"] = lambda.Endpoint.ToString(),
        };

        // Deploy: the published executable deploys itself (the command the README gives).
        var (deployCode, deployOutput) = await PublishedApp.RunAsync(app, work.Path, new Dictionary<string, string>(settings)
        {
            ["NEUTRAL_WORKER"] = "aws-deploy",
            ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
            ["NEUTRAL__AWS__ROLE"] = Role,
            ["NEUTRAL__AWS__FUNCTIONTIMEOUTSECONDS"] = "120",
        });
        Assert.True(deployCode == 0, deployOutput);
        Assert.Contains("Created arn:aws:lambda:us-east-1:000000000000:function:neutral from MonteCarlo", deployOutput, StringComparison.Ordinal);
        Assert.Contains("timeout 120 s", deployOutput, StringComparison.Ordinal);
        var create = lambda.ControlRequests.Single(r => r.Method == "POST");
        using (JsonDocument request = JsonDocument.Parse(create.Body))
        {
            var variables = request.RootElement.GetProperty("Environment").GetProperty("Variables").EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString());
            Assert.Equal("aws", variables["NEUTRAL_WORKER"]);
            Assert.Equal(published.NativeAot ? null : "Neutral.Workers", variables.GetValueOrDefault("DOTNET_STARTUP_HOOKS"));
            Assert.Equal("1", variables["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"]);
            Assert.Equal(64, variables[LambdaDeployer.TablesVariable]!.Length);
            Assert.DoesNotContain(S3Bucket.SecretKey, create.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(S3Bucket.AccessKey, create.Body, StringComparison.Ordinal);
        }

        // Run: the same executable as the client, configuration only.
        var (code, output) = await PublishedApp.RunAsync(app, work.Path, new Dictionary<string, string>(settings)
        {
            ["NEUTRAL__COMPUTE"] = "aws",
            ["NEUTRAL__STORAGE"] = "s3",
        }, "--calls", "1000", "--samples", "20000");
        Assert.True(code == 0, output);
        Assert.Contains("on 'aws'", output, StringComparison.Ordinal);
        Assert.Matches(@"pi ~ 3\.1[0-9]+", output);
        Assert.True(lambda.Invocations >= 1000, $"{lambda.Invocations} invocations");
        // Under CI load a few attempts found RGW too slow to write their status; the runtime then reports a function
        // error and the client retries the call, so nothing is lost. Anything else would be a bug; its text is shown.
        Assert.True(lambda.Outcomes.All(o => o is "response" or "error:Neutral.StatusNotWritten"), string.Join("\n", lambda.Errors.Take(5)));
        Assert.True(lambda.Outcomes.Count(o => o == "response") >= 1000, string.Join("\n", lambda.Errors.Take(5)));
    }
}
