using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Dispatch;

namespace Neutral.Providers.Aws.Compute;

/// <summary>
/// <c>NEUTRAL_WORKER=aws-deploy ./publish/App</c>: the published application deploys itself as the Lambda function,
/// with the dispatch tables it carries (so the deployed digest is exactly what the function will run), the
/// configuration a client would read (<c>neutral.json</c>, <c>appsettings.json</c> in the current directory,
/// <c>NEUTRAL__*</c> variables), and exits: 0 when deployed, 2 with a message on standard error otherwise.
/// </summary>
internal static class SelfDeployment
{
    /// <summary>The runtime name (<c>NEUTRAL_WORKER</c>'s value).</summary>
    public const string RuntimeName = "aws-deploy";

    /// <summary>Deploys this process's application folder as the function; returns a one-line summary.</summary>
    internal static async Task<string> DeployAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        AwsSection aws = AwsSection.Read(configuration.GetSection(NeutralConfiguration.Section));
        string Prefix = aws.Prefix;
        IConfiguration section = aws.Section;
        string region = aws.Region;
        string bucket = aws.RequireBucket("the bucket the client uses: the deployed tables are kept there");
        string function = aws.Function;
        Uri? lambdaUrl = aws.LambdaServiceUrl;
        Uri? s3Url = aws.ServiceUrl;
        // Credentials first (what a user meets first); a dry run sends nothing and needs none.
        Amazon.Runtime.AWSCredentials? credentials = DeploymentPlan.Requested ? null : AwsProvider.Resolve(aws.Credentials);
        var (folder, executable, nativeAot) = ProviderSettings.ThisApplication("a Lambda function on a custom runtime");

        IReadOnlyList<RemoteFunctionInfo> functions = RemoteDispatch.Functions;
        if (functions.Count == 0)
        {
            throw new InvalidOperationException($"the application has no [Remote] methods registered: is {Path.GetFileName(executable)} the application, built with the Neutral generator?");
        }

        LambdaFunctionSettings settings = FunctionSettings(configuration, section, Prefix, functions);
        Dictionary<string, string> environment = ProviderSettings.WorkerEnvironment(Worker.LambdaRuntime.RuntimeName, nativeAot, section, Prefix, configuration.GetSection(NeutralConfiguration.Section));

        Dictionary<string, string> tables = DeployedTables.Of(functions);
        if (DeploymentPlan.Requested)
        {
            return LambdaDeployer.Plan(new LambdaSettings(region, function, lambdaUrl), bucket, folder, Path.GetRelativePath(folder, executable), settings, environment, tables,
                $"{Path.GetFileName(executable)} ({(nativeAot ? "NativeAOT" : "JIT, self-contained")} {RuntimeInformation.RuntimeIdentifier} on {LambdaDeployer.Runtime}, memory {settings.MemoryMb} MB, timeout {settings.TimeoutSeconds} s)").ToString();
        }

        using var store = new S3ObjectStore(new S3Settings(region, bucket, s3Url), credentials);
        await store.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
        LambdaDeployment deployment = await LambdaDeployer.DeployAsync(new LambdaSettings(region, function, lambdaUrl), credentials, store, bucket,
            folder, Path.GetRelativePath(folder, executable), settings, environment, tables, cancellationToken: cancellationToken).ConfigureAwait(false);
        return string.Create(CultureInfo.InvariantCulture,
            $"{(deployment.Created ? "Created" : "Updated")} {deployment.FunctionArn} from {Path.GetFileName(executable)}: "
            + $"{(nativeAot ? "NativeAOT" : "JIT, self-contained")} {RuntimeInformation.RuntimeIdentifier} on {LambdaDeployer.Runtime}, "
            + $"{deployment.ZipBytes / 1048576.0:0.0} MiB zip{(deployment.ViaS3 ? " (through s3://" + bucket + ")" : "")}, "
            + $"memory {settings.MemoryMb} MB, timeout {settings.TimeoutSeconds} s, {tables.Count} functions.");
    }

    /// <summary>
    /// Memory and timeout: the configuration's <c>FunctionMemoryMb</c> / <c>FunctionTimeoutSeconds</c> when set, else
    /// the largest <c>[Remote(MemoryMb, TimeoutSeconds)]</c> of the application's methods (one function serves them
    /// all), else 1,024 MB and the job timeout (<c>Neutral:Job:TimeoutSeconds</c>, 300 s).
    /// </summary>
    internal static LambdaFunctionSettings FunctionSettings(IConfiguration configuration, IConfiguration section, string prefix, IReadOnlyList<RemoteFunctionInfo> functions)
    {
        int? largest = functions.Max(fn => fn.MemoryMb);
        int timeout = ProviderSettings.DeployedTimeout(configuration, section, prefix, "FunctionTimeoutSeconds", functions, LambdaFunctionSettings.MaxTimeoutSeconds, "a Lambda function");

        int memory = section["FunctionMemoryMb"] is not null
            ? ProviderSettings.WholeNumber(section, prefix, "FunctionMemoryMb", 0, 128, 10_240)
            : largest is int m
                ? (m is >= 128 and <= 10_240 ? m : throw new InvalidOperationException($"[Remote(MemoryMb = {m})]: a Lambda function has 128 to 10,240 MB."))
                : LambdaFunctionSettings.DefaultMemoryMb;
        return new LambdaFunctionSettings(section["Role"] is { Length: > 0 } role ? role : null, memory, timeout);
    }
}
