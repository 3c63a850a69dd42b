using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Cli;

/// <summary>
/// <c>neutral replay &lt;job&gt; &lt;call&gt;</c>: runs one failed call again, kept in the store for
/// <c>Job:KeepFailedHours</c>, in the application's own build (<c>NEUTRAL_WORKER=replay</c>), so that a breakpoint in the
/// <c>[Remote]</c> method is hit; the application refuses when its build's signature differs from the job's.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(ToolContext context)
    {
        Argument<string> job = new("job") { Description = "The job's id (in the failure's message, or neutral jobs)." };
        Argument<int> call = new("call") { Description = "The failed call's index." };
        Option<string?> project = new("--project", "-p") { Description = "The app's project, built in Debug and run (default: the only project in this folder)." };
        Option<string?> executable = new("--executable") { Description = "Run this built app instead of building the project (its apphost or a script that starts it)." };
        Option<bool> wait = new("--wait-for-debugger") { Description = "The app waits, printing its process id, until a debugger attaches." };
        Option<bool> print = new("--print") { Description = "Print the variables that start the replay (for an IDE's launch profile) instead of running it." };
        Command command = new("replay",
            "Runs a failed call again in your own build, under your debugger, from its kept arguments. Example: neutral replay 20261206-051430-b2d4104b82 3 --wait-for-debugger")
        {
            job, call, project, executable, wait, print,
        };
        command.SetAction((parsed, cancellationToken) => RunAsync(context, parsed.GetValue(job)!, parsed.GetValue(call), parsed.GetValue(project), parsed.GetValue(executable),
            parsed.GetValue(wait), parsed.GetValue(print), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ToolContext context, string job, int call, string? project, string? executable, bool wait, bool print, CancellationToken cancellationToken)
    {
        KeptCall kept;
        Dictionary<string, string> environment;
        await using (OpenStore store = await context.OpenStoreAsync())
        {
            kept = await ReadAsync(store, job, call, cancellationToken);
            environment = new Dictionary<string, string>(store.WorkerEnvironment ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        }

        await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Call {call} of job {job} failed at {kept.Failed:u} with {kept.Error.Type}: {kept.Error.Message.Split('\n', 2)[0]}"));

        // The call as it was invoked, its arguments inline, in a file of the user's own (the variables would be too small).
        // A folder of this run's own (mode 0700): the arguments are the user's data.
        DirectoryInfo folder = Directory.CreateTempSubdirectory("neutral-replay-");
        string file = Path.Combine(folder.FullName, $"{job}-{call.ToString(CultureInfo.InvariantCulture)}.json");
        await File.WriteAllBytesAsync(file, WireJson.Serialize(kept.Call), cancellationToken);
        try
        {
            return await StartAsync(context, file, environment, project, executable, wait, print, cancellationToken);
        }
        finally
        {
            if (!print)
            {
                folder.Delete(recursive: true);
            }
        }
    }

    private static async Task<int> StartAsync(ToolContext context, string file, Dictionary<string, string> environment, string? project, string? executable, bool wait, bool print,
        CancellationToken cancellationToken)
    {

        environment["NEUTRAL_WORKER"] = "replay";
        environment["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers";
        environment["NEUTRAL_REPLAY"] = file;
        if (wait)
        {
            environment["NEUTRAL_REPLAY_WAIT"] = "1";
        }

        if (print)
        {
            await context.Output.WriteLineAsync("Start the app (its Debug build, under your debugger) with these variables; it runs the call instead of Main:");
            foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                bool secret = Providers.DeploymentPlan.IsSecretName(name) || Providers.DeploymentPlan.IsSecretValue(value);
                await context.Output.WriteLineAsync($"  {name}={(secret ? "(the store's credential, as in your configuration: neutral config)" : value)}");
            }

            return 0;
        }

        (string FileName, string[] Arguments) start = executable is not null
            ? (Path.GetFullPath(executable, context.Directory), [])
            : ("dotnet", [await BuildAsync(context, DeployCommand.FindProject(context.Directory, project), cancellationToken)]);
        var info = new ProcessStartInfo(start.FileName) { WorkingDirectory = context.Directory };
        foreach (string argument in start.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        int code = await ChildProcess.RunAsync(info, context.Output, context.Error, cancellationToken);
        // 0: the call returned this time; 1: it threw again (reproduced); 2: it could not be replayed (said on standard error).
        if (code is 0 or 1 or 2)
        {
            return code;
        }

        await context.Error.WriteLineAsync($"neutral: the app ended with exit code {code} before the call's outcome: it crashed, or it is not a Neutral app built with the generator.");
        return 1;
    }

    private static async Task<KeptCall> ReadAsync(OpenStore store, string job, int call, CancellationToken cancellationToken)
    {
        string key;
        try
        {
            key = StorageLayout.Kept(job, call);
        }
        catch (ArgumentException)
        {
            throw new ToolException($"'{job}' is not a job id (neutral jobs lists them; a failure's message names its job).");
        }

        if (await store.Internal.GetAsync(key, cancellationToken) is { } bytes)
        {
            try
            {
                return WireJson.DeserializeKept(bytes);
            }
            catch (FormatException e)
            {
                throw new ToolException($"the kept call at {Cloud.InternalPrefix}{key} is unreadable: {e.Message}");
            }
        }

        IReadOnlyList<int> others = await JobView.KeptCallsAsync(store.Internal, job, cancellationToken);

        throw new ToolException(others.Count > 0
            ? $"call {call} of job {job} is not kept: {(others.Count == 1 ? "its only failed call kept is " + others[0] : "its failed calls kept are " + string.Join(", ", others))}."
            : $"no failed call of job {job} is kept in {store.Location}: failed calls are kept for Job:KeepFailedHours (24 h by default) after their job ends.");
    }

    /// <summary>Builds the project in Debug (its symbols and breakpoints) and returns its assembly's path.</summary>
    private static async Task<string> BuildAsync(ToolContext context, string project, CancellationToken cancellationToken)
    {
        await context.Output.WriteLineAsync($"Building {Path.GetFileName(project)} (Debug) ...");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = context.Directory };
        foreach (string argument in new[] { "build", project, "-c", "Debug", "-nologo", "-v", "q", "-getProperty:TargetPath" })
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            ChildProcess.KillQuietly(process);
            throw;
        }

        string text = (await output).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build {Path.GetFileName(project)} failed: {(text + "\n" + await error).Trim().Split('\n').Where(l => l.Contains(" error ", StringComparison.Ordinal)).FirstOrDefault() ?? text}");
        }

        string path = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) ?? "";
        return File.Exists(path) ? path : throw new InvalidOperationException($"dotnet build {Path.GetFileName(project)} did not say where it built the app (got '{text}').");
    }
}
