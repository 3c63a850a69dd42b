using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Cli;

// neutral: the command-line tool. Every command reads the configuration of the app in the current folder as the app
// does (appsettings.json, neutral.json, NEUTRAL__* variables). Bad input is one line on standard error and exit code 2.
return await Tool.RunAsync(args, Directory.GetCurrentDirectory(), Console.Out, Console.Error);

namespace Neutral.Cli
{
    /// <summary>The tool's commands, and how it ends: 0 done, 1 a job or check that failed, 2 bad input or configuration.</summary>
    internal static class Tool
    {
        private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd('\r');

        public static async Task<int> RunAsync(string[] args, string directory, TextWriter output, TextWriter error, TimeProvider? time = null)
        {
            var context = new ToolContext(directory, output, error) { Time = time };
            RootCommand root = new("neutral: configure, deploy and check the app in this folder (init, config, deploy, doctor), and look into its jobs and its store (jobs, status, logs, plot, replay, clean, storage).");
            // In the order a user meets them: set up, deploy, check; then the jobs, a failed call again, the store.
            root.Subcommands.Add(InitCommand.Create(context));
            root.Subcommands.Add(ConfigCommand.Create(context));
            root.Subcommands.Add(DeployCommand.Create(context));
            root.Subcommands.Add(DoctorCommand.Create(context));
            foreach (Command command in JobCommands.Create(context))
            {
                root.Subcommands.Add(command);
            }

            root.Subcommands.Add(ReplayCommand.Create(context));
            root.Subcommands.Add(StorageCommand.Create(context));
            if (args.Length > 0 && !args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]))
            {
                // A mistyped command: named, with the nearest one (System.CommandLine would say none was given).
                string? near = root.Subcommands.Select(c => c.Name).OrderBy(n => Workers.EditDistance.Of(n, args[0])).FirstOrDefault(n => Workers.EditDistance.Of(n, args[0]) <= 2);
                await error.WriteLineAsync($"neutral: '{args[0]}' is not a command.{(near is null ? "" : $" Did you mean '{near}'?")} (neutral --help lists them)");
                return 2;
            }

            ParseResult parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                string command = parsed.CommandResult.Command is { } c && c != root ? $"neutral {c.Name} --help" : "neutral --help";
                await error.WriteLineAsync($"neutral: {string.Join(' ', parsed.Errors[0].Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))} ({command} says more)");
                return 2;
            }

            try
            {
                // Errors reach the catch below (one line), not System.CommandLine's handler (a stack trace, exit code 1).
                return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
            }
            catch (Exception e) when (e is NeutralConfigurationException or ToolException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                // Bad input: a key, a job id, a path that cannot be written.
                await error.WriteLineAsync("neutral: " + FirstLine(e.Message));
                return 2;
            }
            catch (OperationCanceledException)
            {
                await error.WriteLineAsync("neutral: cancelled");
                return 130;
            }
            catch (Exception e)
            {
                // The store or the platform refused (no bucket, access denied, unreachable): one line, not a stack trace.
                await error.WriteLineAsync($"neutral: {e.GetType().Name}: {FirstLine(e.Message)}");
                return 1;
            }
        }
    }
}
