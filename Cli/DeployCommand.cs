using System;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Providers;

namespace Neutral.Cli;

/// <summary>
/// <c>neutral deploy [project]</c>: publishes the app for linux-x64 (NativeAOT when it builds without a warning, else
/// self-contained ReadyToRun, as <see cref="WorkerPackage.PublishAsync"/> decides) and has the published executable
/// deploy itself (<c>NEUTRAL_WORKER={provider}-deploy</c>), so that what is deployed is exactly the build's dispatch
/// tables and the app's own provider version, with the configuration of this folder. <c>--dry-run</c> lists the
/// requests instead of sending them (<see cref="DeploymentPlan"/>).
/// </summary>
internal static class DeployCommand
{
    private static readonly string[] Deployable = ["aws", "azure", "openwhisk"];

    public static Command Create(ToolContext context)
    {
        Argument<string?> project = new("project") { Description = "The app's project file or folder (default: the only project in this folder).", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> dryRun = new("--dry-run") { Description = "Publish and build the package, then print the requests a deployment would send, and send none." };
        Option<bool> jit = new("--jit") { Description = "Publish self-contained with ReadyToRun, without trying NativeAOT first." };
        Option<string?> output = new("--output", "-o") { Description = "Where to publish (default: bin/neutral-deploy/<provider> beside the project)." };
        Command command = new("deploy",
            "Publishes the app for the configured provider (NativeAOT when it builds cleanly) and deploys it as the function, Function App or action. Example: neutral deploy --dry-run")
        {
            project, dryRun, jit, output,
        };
        command.SetAction((parsed, cancellationToken) =>
            RunAsync(context, parsed.GetValue(project), parsed.GetValue(dryRun), parsed.GetValue(jit), parsed.GetValue(output), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ToolContext context, string? project, bool dryRun, bool jit, string? output, CancellationToken cancellationToken)
    {
        // The project first: a wrong path is the first thing to say.
        string projectFile = FindProject(context.Directory, project);
        NeutralOptions options = context.Options;
        string provider = options.Compute;
        if (!Deployable.Contains(provider))
        {
            throw new ToolException($"Neutral:Compute is '{provider}': there is nothing to deploy (local workers are the app itself). Set Neutral:Compute to aws, azure or openwhisk (neutral init --provider aws writes a start).");
        }

        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            // The published executable deploys itself (its own tables, its own provider version): it must run here.
            throw new ToolException($"neutral deploy publishes the app for linux-x64 and runs that build to deploy it, so it runs on Linux x64 (a CI runner, WSL, a container), not on {System.Runtime.InteropServices.RuntimeInformation.OSDescription} {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}.");
        }

        string folder = Path.GetFullPath(output ?? Path.Combine(Path.GetDirectoryName(projectFile)!, "bin", "neutral-deploy", provider), context.Directory);
        await context.Output.WriteLineAsync($"Publishing {Path.GetFileName(projectFile)} for linux-x64 ({(jit ? "self-contained, ReadyToRun" : "NativeAOT when it builds without warnings, else self-contained ReadyToRun")}) into {folder} ...");
        var watch = Stopwatch.StartNew();
        PublishedWorker published = await WorkerPackage.PublishAsync(projectFile, folder, jit ? false : null, cancellationToken);
        await context.Output.WriteLineAsync($"Published in {DoctorCommand.Ms(watch.Elapsed)}: {(published.NativeAot ? "NativeAOT" : "self-contained JIT with ReadyToRun")}"
            + (published.WhyNotNativeAot is { } why ? $" ({why})" : "") + ".");

        await context.Output.WriteLineAsync(dryRun ? "Planning the deployment (nothing is sent) ..." : $"Deploying to {provider} ...");
        var info = new ProcessStartInfo(Path.Combine(published.Folder, published.Executable)) { WorkingDirectory = context.Directory };
        info.Environment["NEUTRAL_WORKER"] = provider + "-deploy";
        if (!published.NativeAot)
        {
            info.Environment["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers";
        }

        if (dryRun)
        {
            info.Environment[DeploymentPlan.Variable] = "1";
        }
        else
        {
            info.Environment.Remove(DeploymentPlan.Variable);
        }

        int code = await ChildProcess.RunAsync(info, context.Output, context.Error, cancellationToken);
        // The deployment prints its own summary, or its one-line reason on standard error (exit code 2).
        return code switch
        {
            0 => 0,
            2 => 2,
            _ => 1,
        };
    }

    /// <summary>The project file: the one named, the only one in the named folder, or the only one in the app's folder.</summary>
    internal static string FindProject(string directory, string? project)
    {
        string path = Path.GetFullPath(project ?? ".", directory);
        if (File.Exists(path))
        {
            return path.EndsWith("proj", StringComparison.OrdinalIgnoreCase) ? path : throw new ToolException($"{project} is not a project file (.csproj, .fsproj, .vbproj).");
        }

        if (!Directory.Exists(path))
        {
            throw new ToolException($"no such project or folder: {project}");
        }

        string[] projects = Directory.GetFiles(path, "*.*proj").Order(StringComparer.Ordinal).ToArray();
        return projects.Length switch
        {
            1 => projects[0],
            0 => throw new ToolException($"there is no project file in {path}: run neutral deploy in the app's folder, or name its project (neutral deploy src/MyApp)."),
            _ => throw new ToolException($"{path} has {projects.Length} project files ({string.Join(", ", projects.Select(Path.GetFileName))}): name the one to deploy."),
        };
    }
}
