using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Dispatch;
using Neutral.Emulators;
using Neutral.Providers.Aws.Compute;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Providers.Aws.Tests;

public static class SizedFunctions
{
    /// <summary>Asks for more than the defaults: a deployment sizes the one function by its largest method.</summary>
    [Remote(TimeoutSeconds = 600, MemoryMb = 3008)]
    public static int Big(int x) => x;
}

/// <summary>
/// Deploying the worker as a Lambda function: the zip, the control-plane requests (create, then update, each waited
/// for), the tables' digest checked before a job starts, and jobs on what was deployed (the emulator unzips the code
/// and starts its <c>bootstrap</c>).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LambdaDeploymentTests(S3Bucket bucket) : IClassFixture<S3Bucket>
{
    private const string Role = "arn:aws:iam::123456789012:role/neutral-worker";

    private static readonly Dictionary<string, string> RoleEnvironment = new()
    {
        ["AWS_ACCESS_KEY_ID"] = S3Bucket.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3Bucket.SecretKey,
        ["AWS_REGION"] = "us-east-1",
    };

    /// <summary>What the deployer sets beside the tables' digest when the app runs under the JIT, and where the test host's assemblies are.</summary>
    private static Dictionary<string, string> Variables() => new()
    {
        ["NEUTRAL_WORKER"] = "aws",
        ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        ["NEUTRAL_WORKER_ASSEMBLIES"] = TestFunction.Assemblies,
    };

    private LambdaService NewService() => new(bootstrap: null, new Dictionary<string, string>(), S3Bucket.AccessKey, sandboxes: 2, roleEnvironment: RoleEnvironment)
    {
        ReadS3Code = (b, k) => b == bucket.Name ? bucket.Store.GetAsync(k).GetAwaiter().GetResult() : null,
    };

    private Cloud Connect(LambdaService lambda)
    {
        AwsProvider.Register();
        return Cloud.Connect(bucket.Configuration(("Neutral:Compute", "aws"), ("Neutral:Aws:LambdaServiceUrl", lambda.Endpoint.ToString())));
    }

    private Task<LambdaDeployment> DeployAsync(LambdaService lambda, string folder, LambdaFunctionSettings settings, IReadOnlyDictionary<string, string>? tables = null,
        long directUploadLimit = LambdaDeployer.DirectUploadLimit) =>
        LambdaDeployer.DeployAsync(new LambdaSettings("us-east-1", "neutral", lambda.Endpoint), S3Bucket.Credentials, bucket.Store, bucket.Name,
            folder, "bootstrap", settings, Variables(), tables ?? TestFunction.Tables(), directUploadLimit);

    [Fact]
    public void The_package_has_an_executable_bootstrap_at_its_root()
    {
        using var published = new TempFolder("neutral-published");
        File.WriteAllText(Path.Combine(published.Path, "App"), "#!/bin/sh\n");
        File.WriteAllText(Path.Combine(published.Path, "App.dll"), "il");
        File.WriteAllText(Path.Combine(published.Path, "App.pdb"), "symbols");

        using var archive = new ZipArchive(new MemoryStream(LambdaDeployer.Package(published.Path, "App")));
        Assert.Equal(["App.dll", "bootstrap"], archive.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        Assert.Equal(Convert.ToUInt32("100755", 8), (uint)archive.GetEntry("bootstrap")!.ExternalAttributes >> 16);
    }

    [Fact]
    public async Task Deploying_creates_the_function_waits_for_it_and_a_job_runs_on_it_then_a_redeploy_updates_code_and_configuration_in_turn()
    {
        using var code = new TempFolder("neutral-function");
        await using LambdaService lambda = NewService();
        await using (Cloud before = Connect(lambda))
        {
            var missing = await Assert.ThrowsAsync<RemoteJobException>(() => before.MapAsync(Enumerable.Range(0, 2), i => Remote.LambdaFunctions.Square(i)));
            Assert.All(missing.Failures, f => Assert.Contains("deploy the worker first", f.Message, StringComparison.Ordinal));
            Assert.Equal(0, lambda.Invocations);
        }

        string folder = Path.GetDirectoryName(TestFunction.Bootstrap(code.Path))!;
        int asked = lambda.ControlRequests.Count; // the client's own look at the configuration
        LambdaDeployment created = await DeployAsync(lambda, folder, new LambdaFunctionSettings(Role, MemoryMb: 2048, TimeoutSeconds: 120));
        Assert.True(created.Created);
        Assert.False(created.ViaS3);
        Assert.Equal("arn:aws:lambda:us-east-1:000000000000:function:neutral", created.FunctionArn);

        // Look first (404), create, then read the configuration until Lambda says Active (the emulator: two reads Pending).
        var requests = lambda.ControlRequests.Skip(asked).ToList();
        Assert.Equal(["GET /2015-03-31/functions/neutral/configuration", "POST /2015-03-31/functions"], requests.Take(2).Select(r => r.Method + " " + r.Path));
        Assert.True(requests.Skip(2).Count(r => r.Method == "GET") >= 3, string.Join(", ", requests.Select(r => r.Method)));
        using (JsonDocument create = JsonDocument.Parse(requests[1].Body))
        {
            JsonElement root = create.RootElement;
            Assert.Equal("neutral", root.GetProperty("FunctionName").GetString());
            Assert.Equal("provided.al2023", root.GetProperty("Runtime").GetString());
            Assert.Equal("bootstrap", root.GetProperty("Handler").GetString());
            Assert.Equal(Role, root.GetProperty("Role").GetString());
            Assert.Equal(2048, root.GetProperty("MemorySize").GetInt32());
            Assert.Equal(120, root.GetProperty("Timeout").GetInt32());
            Assert.Equal("x86_64", Assert.Single(root.GetProperty("Architectures").EnumerateArray()).GetString());
            Assert.True(root.GetProperty("Code").TryGetProperty("ZipFile", out _));
            JsonElement variables = root.GetProperty("Environment").GetProperty("Variables");
            Assert.Equal(created.TablesDigest, variables.GetProperty(LambdaDeployer.TablesVariable).GetString());
            Assert.Equal("aws", variables.GetProperty("NEUTRAL_WORKER").GetString());
            Assert.DoesNotContain(S3Bucket.SecretKey, requests[1].Body, StringComparison.Ordinal);
        }

        // Lambda is told not to retry function errors of queued invocations: the client retries calls itself.
        Assert.Equal(0, lambda.MaximumRetryAttempts);
        var eventConfig = requests.Single(r => r.Path.EndsWith("/event-invoke-config", StringComparison.Ordinal));
        Assert.Equal(("PUT", "/2019-09-25/functions/neutral/event-invoke-config"), (eventConfig.Method, eventConfig.Path));

        // The tables the digest names are in the bucket.
        string tables = System.Text.Encoding.UTF8.GetString((await bucket.Store.GetAsync(LambdaDeployer.TablesKey(created.TablesDigest)))!);
        Assert.Contains($"{Remote.LambdaFunctions.Square(1).Function.Id}={InvocationEnvelope.FormatHash(Remote.LambdaFunctions.Square(1).Function.SignatureHash)}", tables, StringComparison.Ordinal);

        await using (Cloud cloud = Connect(lambda))
        {
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i * i), await cloud.MapAsync(Enumerable.Range(0, 10), i => Remote.LambdaFunctions.Square(i)));
        }

        // A redeploy: code, wait, configuration, wait; the configuration update never meets an update in progress (no 409).
        int seen = lambda.ControlRequests.Count;
        LambdaDeployment updated = await DeployAsync(lambda, folder, new LambdaFunctionSettings(Role: null, MemoryMb: 1024, TimeoutSeconds: 60));
        Assert.False(updated.Created);
        var update = lambda.ControlRequests.Skip(seen).ToList();
        Assert.Equal("GET", update[0].Method);
        int putCode = update.FindIndex(r => r.Method == "PUT" && r.Path.EndsWith("/code", StringComparison.Ordinal));
        int putConfiguration = update.FindIndex(r => r.Method == "PUT" && r.Path.EndsWith("/configuration", StringComparison.Ordinal));
        Assert.True(putCode > 0 && putConfiguration > putCode + 2, string.Join(", ", update.Select(r => r.Method + " " + r.Path)));
        Assert.Equal(1, update.Count(r => r.Method == "PUT" && r.Path.EndsWith("/configuration", StringComparison.Ordinal)));
        using (JsonDocument configuration = JsonDocument.Parse(update[putConfiguration].Body))
        {
            Assert.False(configuration.RootElement.TryGetProperty("Role", out _));
            Assert.Equal(60, configuration.RootElement.GetProperty("Timeout").GetInt32());
        }

        Assert.Equal(TimeSpan.FromSeconds(60), lambda.Timeout);
        await using (Cloud cloud = Connect(lambda))
        {
            Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.LambdaFunctions.Square(i)));
        }
    }

    [Fact]
    public async Task A_package_above_the_direct_upload_limit_goes_through_the_bucket()
    {
        using var code = new TempFolder("neutral-function");
        await using LambdaService lambda = NewService();
        string folder = Path.GetDirectoryName(TestFunction.Bootstrap(code.Path))!;
        LambdaDeployment deployment = await DeployAsync(lambda, folder, new LambdaFunctionSettings(Role), directUploadLimit: 10);
        Assert.True(deployment.ViaS3);

        using JsonDocument create = JsonDocument.Parse(lambda.ControlRequests.Single(r => r.Method == "POST").Body);
        JsonElement source = create.RootElement.GetProperty("Code");
        Assert.False(source.TryGetProperty("ZipFile", out _));
        Assert.Equal(bucket.Name, source.GetProperty("S3Bucket").GetString());
        Assert.NotNull(await bucket.Store.GetAsync(source.GetProperty("S3Key").GetString()!));

        await using Cloud cloud = Connect(lambda);
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.LambdaFunctions.Square(i)));
    }

    [Fact]
    public async Task A_function_with_other_tables_fails_the_job_before_any_invocation()
    {
        using var code = new TempFolder("neutral-function");
        await using LambdaService lambda = NewService();
        Dictionary<string, string> tables = TestFunction.Tables();
        string square = Remote.LambdaFunctions.Square(1).Function.Id;
        tables[square] = InvocationEnvelope.FormatHash(Remote.LambdaFunctions.Square(1).Function.SignatureHash ^ 1);
        await DeployAsync(lambda, Path.GetDirectoryName(TestFunction.Bootstrap(code.Path))!, new LambdaFunctionSettings(Role), tables);

        await using Cloud cloud = Connect(lambda);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.LambdaFunctions.Square(i)));
        Assert.Equal(5, error.Failures.Count);
        Assert.All(error.Failures, f =>
        {
            Assert.Equal(typeof(StaleWorkerException).FullName, f.RemoteTypeName);
            Assert.Contains("could not start", f.Message, StringComparison.Ordinal);
            Assert.Contains(square, f.Message, StringComparison.Ordinal);
        });
        Assert.Equal(0, lambda.Invocations);

        // Functions the deployment has with the same hash still run.
        Assert.Equal(new[] { 0, 1 }, await cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.LambdaFunctions.Fail(i)));
    }

    [Fact]
    public async Task A_function_not_deployed_by_Neutral_is_named_as_such()
    {
        using var code = new TempFolder("neutral-function");
        var variables = TestFunction.Environment();
        variables.Remove(LambdaDeployer.TablesVariable);
        await using var lambda = new LambdaService(TestFunction.Bootstrap(code.Path), variables, S3Bucket.AccessKey);
        await using Cloud cloud = Connect(lambda);
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(Enumerable.Range(0, 2), i => Remote.LambdaFunctions.Square(i)));
        Assert.All(error.Failures, f => Assert.Contains("was not deployed by Neutral", f.Message, StringComparison.Ordinal));
        Assert.Equal(0, lambda.Invocations);
    }

    [Fact]
    public async Task Creating_a_function_without_a_role_says_which_setting_to_give()
    {
        using var code = new TempFolder("neutral-function");
        await using LambdaService lambda = NewService();
        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() =>
            DeployAsync(lambda, Path.GetDirectoryName(TestFunction.Bootstrap(code.Path))!, new LambdaFunctionSettings(Role: null)));
        Assert.Contains("Neutral:Aws:Role", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(lambda.ControlRequests, r => r.Method == "POST");
    }

    [Fact]
    public void The_function_is_sized_by_the_largest_Remote_attribute_unless_the_configuration_says_otherwise()
    {
        RemoteFunctionInfo big = RemoteDispatch.Functions.Single(f => f.Id == Remote.SizedFunctions.Big(1).Function.Id);
        Assert.Equal((600, 3008), (big.TimeoutSeconds, big.MemoryMb));
        Assert.Null(RemoteDispatch.Functions.Single(f => f.Id == Remote.LambdaFunctions.Square(1).Function.Id).MemoryMb);

        IConfiguration Config(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        const string Prefix = "Neutral:Aws:";

        IConfiguration none = Config();
        LambdaFunctionSettings fromAttributes = SelfDeployment.FunctionSettings(none, none.GetSection("Neutral:Aws"), Prefix, RemoteDispatch.Functions);
        Assert.Equal((3008, 600), (fromAttributes.MemoryMb, fromAttributes.TimeoutSeconds));

        IConfiguration set = Config(("Neutral:Aws:FunctionMemoryMb", "512"), ("Neutral:Aws:FunctionTimeoutSeconds", "30"), ("Neutral:Aws:Role", Role));
        LambdaFunctionSettings configured = SelfDeployment.FunctionSettings(set, set.GetSection("Neutral:Aws"), Prefix, RemoteDispatch.Functions);
        Assert.Equal((512, 30, Role), (configured.MemoryMb, configured.TimeoutSeconds, configured.Role));

        // Without attributes: 1,024 MB and the job timeout, capped at Lambda's 900 s.
        RemoteFunctionInfo[] plain = [new("f", 1)];
        IConfiguration job = Config(("Neutral:Job:TimeoutSeconds", "3600"));
        LambdaFunctionSettings defaults = SelfDeployment.FunctionSettings(job, job.GetSection("Neutral:Aws"), Prefix, plain);
        Assert.Equal((1024, 900), (defaults.MemoryMb, defaults.TimeoutSeconds));

        RemoteFunctionInfo[] tooLong = [new("g", 1) { TimeoutSeconds = 1200 }];
        Assert.Contains("at most 900 s", Assert.Throws<InvalidOperationException>(() => SelfDeployment.FunctionSettings(none, none.GetSection("Neutral:Aws"), Prefix, tooLong)).Message, StringComparison.Ordinal);
        IConfiguration bad = Config(("Neutral:Aws:FunctionMemoryMb", "64"));
        Assert.Equal("Neutral:Aws:FunctionMemoryMb", Assert.Throws<NeutralConfigurationException>(() => SelfDeployment.FunctionSettings(bad, bad.GetSection("Neutral:Aws"), Prefix, plain)).Key);
    }
}
