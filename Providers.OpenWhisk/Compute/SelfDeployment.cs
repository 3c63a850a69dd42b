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

namespace Neutral.Providers.OpenWhisk.Compute;

/// <summary>
/// <c>NEUTRAL_WORKER=openwhisk-deploy ./publish/App</c>: the published application deploys itself as the OpenWhisk
/// action, with the dispatch tables it carries (so the annotation is exactly what the action will run), the
/// configuration a client would read (<c>neutral.json</c>, <c>appsettings.json</c> in the current directory,
/// <c>NEUTRAL__*</c> variables), and exits: 0 when deployed, 2 with a message on standard error otherwise.
/// </summary>
internal static class SelfDeployment
{
    /// <summary>The runtime name (<c>NEUTRAL_WORKER</c>'s value).</summary>
    public const string RuntimeName = "openwhisk-deploy";

    /// <summary>Deploys this process's application folder as the action; returns a one-line summary.</summary>
    internal static async Task<string> DeployAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        IConfiguration neutral = configuration.GetSection(NeutralConfiguration.Section);
        OpenWhiskSection openWhisk = OpenWhiskSection.Read(neutral);
        OpenWhiskSettings settings = openWhisk.Settings;

        var (folder, executable, nativeAot) = ProviderSettings.ThisApplication("an action");

        // The action-proxy images have no ICU: invariant globalization unless told otherwise.
        Dictionary<string, string> environment = ProviderSettings.WorkerEnvironment(Worker.ActionLoop.RuntimeName, nativeAot, openWhisk.Section, openWhisk.Prefix, neutral);
        foreach (var (name, value) in MinioSection.Read(neutral).WorkerEnvironment())
        {
            environment[name] = value;
        }

        if (settings.ProvideApiKey && settings.AcceptSelfSignedCertificate)
        {
            // The launcher calls reach the controller at __OW_API_HOST as the client does.
            environment[Worker.ActionLoop.AcceptSelfSignedVariable] = "1";
        }

        int jobTimeout = ProviderSettings.WholeNumber(configuration.GetSection("Neutral:Job"), "Neutral:Job:", "TimeoutSeconds", 300, 1, int.MaxValue);
        ActionLimits limits = openWhisk.Limits(jobTimeout);

        Dictionary<string, string> tables = DeployedTables.Of(RemoteDispatch.Functions);
        if (tables.Count == 0)
        {
            throw new InvalidOperationException($"the application has no [Remote] methods registered: is {Path.GetFileName(executable)} the application, built with the Neutral generator?");
        }

        if (DeploymentPlan.Requested)
        {
            return OpenWhiskDeployer.Plan(settings, folder, Path.GetRelativePath(folder, executable), limits, environment, tables,
                $"{Path.GetFileName(executable)} ({(nativeAot ? "NativeAOT" : "JIT, self-contained")} {RuntimeInformation.RuntimeIdentifier}) as action '{settings.Action}' in namespace '{settings.Namespace}' at {settings.ApiHost}, "
                + $"time limit {limits.TimeoutSeconds} s, memory {limits.MemoryMb} MiB, concurrency {limits.Concurrency}").ToString();
        }

        int size = await OpenWhiskDeployer.DeployAsync(settings, folder, Path.GetRelativePath(folder, executable), limits, environment, tables, cancellationToken).ConfigureAwait(false);
        return string.Create(CultureInfo.InvariantCulture,
            $"Deployed {Path.GetFileName(executable)} as action '{settings.Action}' in namespace '{settings.Namespace}' at {settings.ApiHost}: "
            + $"{(nativeAot ? "NativeAOT" : "JIT, self-contained")} {RuntimeInformation.RuntimeIdentifier}, {size / 1048576.0:0.0} MiB zip, "
            + $"time limit {limits.TimeoutSeconds} s, memory {limits.MemoryMb} MiB, concurrency {limits.Concurrency}, {tables.Count} functions.");
    }
}
