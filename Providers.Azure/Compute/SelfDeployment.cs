using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
using Microsoft.Extensions.Configuration;
using Neutral.Dispatch;

namespace Neutral.Providers.Azure.Compute;

/// <summary>
/// <c>NEUTRAL_WORKER=azure-deploy ./publish/App</c>: the published application deploys itself as the Function App, with
/// the dispatch tables it carries (so the deployed record is exactly what the app will run), the configuration a client
/// would read (<c>neutral.json</c>, <c>appsettings.json</c> in the current directory, <c>NEUTRAL__*</c> variables), and
/// exits: 0 when deployed, 2 with a message on standard error otherwise.
/// </summary>
internal static class SelfDeployment
{
    /// <summary>The runtime name (<c>NEUTRAL_WORKER</c>'s value).</summary>
    public const string RuntimeName = "azure-deploy";

    /// <summary>
    /// Deploys this process's application folder as the Function App; returns a one-line summary.
    /// <paramref name="transport"/> replaces the HTTP transport of the management requests (tests).
    /// </summary>
    internal static async Task<string> DeployAsync(IConfiguration configuration, global::Azure.Core.Pipeline.HttpPipelineTransport? transport, CancellationToken cancellationToken)
    {
        AzureSection azure = AzureSection.Read(configuration.GetSection(NeutralConfiguration.Section));
        string Prefix = azure.Prefix;
        IConfiguration section = azure.Section;
        var target = new FunctionAppTarget(
            ProviderSettings.Required(section, Prefix, "SubscriptionId", "the subscription the Function App is in (az account show --query id)"),
            ProviderSettings.Required(section, Prefix, "ResourceGroup", "the resource group the Function App is in (it must exist)"),
            azure.RequireApp("the Function App's name (created when missing)"),
            section["Location"] is { Length: > 0 } location ? location : null,
            section["Plan"] is { Length: > 0 } plan ? plan : null);
        BlobSettings storage = azure.Blob;
        Uri queueService = azure.QueueService();
        string queue = azure.Queue;
        var options = new ManagementOptions();
        if (ProviderSettings.HttpUrl(section, Prefix, "ManagementUrl", "it must be an https address, e.g. https://management.azure.com/.", httpsOnly: true) is { } management)
        {
            options.Endpoint = management;
        }

        if (transport is not null)
        {
            options.Transport = transport;
        }

        TokenCredential credential = section["ManagementToken"] is { Length: > 0 } token
            ? new StaticTokenCredential(token)
            : new global::Azure.Identity.DefaultAzureCredential();

        var (folder, executable, nativeAot) = ProviderSettings.ThisApplication("a Function App's custom handler");
        IReadOnlyList<RemoteFunctionInfo> functions = RemoteDispatch.Functions;
        if (functions.Count == 0)
        {
            throw new InvalidOperationException($"the application has no [Remote] methods registered: is {Path.GetFileName(executable)} the application, built with the Neutral generator?");
        }

        int timeout = ProviderSettings.DeployedTimeout(configuration, section, Prefix, "FunctionTimeoutSeconds", functions, FunctionAppDeployer.MaxTimeoutSeconds, "a function on the Consumption plan");
        var appOptions = new FunctionAppOptions(timeout,
            ProviderSettings.WholeNumber(section, Prefix, "BatchSize", 16, 1, 32),
            ProviderSettings.WholeNumber(section, Prefix, "NewBatchThreshold", 8, 0, 1000));
        Dictionary<string, string> environment = ProviderSettings.WorkerEnvironment(Worker.FunctionsHandler.RuntimeName, nativeAot, section, Prefix, configuration.GetSection(NeutralConfiguration.Section));
        Dictionary<string, string> tables = DeployedTables.Of(functions);

        // The app's files go beside the application (host.json, the functions' folders), then all of it into the zip.
        byte[] zip = FunctionAppFiles.Package(folder, Path.GetRelativePath(folder, executable), appOptions);
        if (DeploymentPlan.Requested)
        {
            return FunctionAppDeployer.Plan(target, storage, queueService, queue, zip, tables, environment, timeout, options,
                $"{Path.GetFileName(executable)} ({(nativeAot ? "NativeAOT" : "JIT, self-contained")} {RuntimeInformation.RuntimeIdentifier}) as {target.App}, queue {queue}, timeout {timeout} s, batch {appOptions.BatchSize}").ToString();
        }

        FunctionAppDeployment deployment = await FunctionAppDeployer.DeployAsync(target, credential, storage, queueService, queue, zip, tables, environment, timeout,
            options, cancellationToken).ConfigureAwait(false);
        return string.Create(CultureInfo.InvariantCulture,
            $"{(deployment.Created ? "Created" : "Updated")} {deployment.AppId} from {Path.GetFileName(executable)}: "
            + $"{(nativeAot ? "NativeAOT" : "JIT, self-contained")} {RuntimeInformation.RuntimeIdentifier}, {deployment.ZipBytes / 1048576.0:0.0} MiB package at {deployment.Package}, "
            + $"queue {queue}, timeout {timeout} s, batch {appOptions.BatchSize}, {tables.Count} functions.");
    }
}

/// <summary>
/// A bearer token given as is (<c>Neutral:Azure:ManagementToken</c>, e.g. from <c>az account get-access-token</c> in a
/// pipeline that has one): used for every management request; Azure answers 401 once it has expired.
/// </summary>
internal sealed class StaticTokenCredential(string token) : TokenCredential
{
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(token, DateTimeOffset.UtcNow.AddMinutes(5));

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
