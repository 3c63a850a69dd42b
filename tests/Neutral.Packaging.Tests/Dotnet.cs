using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Neutral.Packaging.Tests;

/// <summary>What a command printed and how it ended.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;
}

/// <summary>Runs <c>dotnet</c> and published executables as a user's shell would, without this test host's MSBuild settings.</summary>
internal static class Command
{
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments, string directory, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // `dotnet test` passes MSBuild and test-platform settings down; a user's shell has none of them.
        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                     || k is "DOTNET_HOST_PATH" or "DOTNET_STARTUP_HOOKS" or "NEUTRAL_WORKER" or "NEUTRAL_WORKER_ASSEMBLIES").ToArray())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild node processes left running after the test.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {string.Join(' ', arguments)}' did not finish within {timeout.TotalSeconds:0} s.\n{await output}\n{await error}");
        }

        return new CommandResult(process.ExitCode, await output, await error);
    }

    public static Task<CommandResult> DotnetAsync(string directory, params string[] arguments) =>
        RunAsync("dotnet", arguments, directory, TimeSpan.FromMinutes(10));
}
