using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Testing;

namespace Neutral.Tests;

/// <summary>The MonteCarlo sample, as built with the tests, run as a user's shell would: a real client process.</summary>
internal static class SampleProcess
{
    /// <summary>The sample's assembly in the build folder of this test run's configuration.</summary>
    public static string MonteCarlo
    {
        get
        {
            // This assembly is in tests/Neutral.Tests/bin/{configuration}/net10.0/.
            string configuration = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)))!;
            string sample = Path.Combine(PublishedApp.Repository(), "samples", "MonteCarlo", "bin", configuration, "net10.0", "MonteCarlo.dll");
            return File.Exists(sample) ? sample : throw new FileNotFoundException("the MonteCarlo sample is not built (build the solution first)", sample);
        }
    }

    /// <summary>
    /// Starts the sample in <paramref name="folder"/> with only <paramref name="environment"/> beside what <c>dotnet</c>
    /// needs (PATH, DOTNET_ROOT) and a HOME of its own: nothing of the test process's settings or credentials.
    /// </summary>
    /// <remarks>
    /// Through <c>env --default-signal=INT</c>: a process started in the background by a non-interactive shell (a CI
    /// runner, a test host) inherits SIGINT ignored, and Ctrl-C in a terminal reaches a process that does not ignore it.
    /// </remarks>
    public static Process Start(string folder, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Start(folder, environment, ownGroup: false, arguments);

    /// <summary>As <see cref="Start(string, IReadOnlyDictionary{string, string}, string[])"/>; with <paramref name="ownGroup"/>, in a process group of its own (<c>setsid</c>), as a terminal's foreground job is, whose id is the process's.</summary>
    public static Process Start(string folder, IReadOnlyDictionary<string, string> environment, bool ownGroup, params string[] arguments)
    {
        var info = new ProcessStartInfo(ownGroup ? "setsid" : "env") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        if (ownGroup)
        {
            info.ArgumentList.Add("env");
        }

        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(MonteCarlo);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (string name in new[] { "PATH", "DOTNET_ROOT", "TMPDIR" })
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                info.Environment[name] = value;
            }
        }

        info.Environment["HOME"] = folder;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }

    /// <summary>Runs the sample to its end (at most two minutes) and returns its exit code and both outputs.</summary>
    public static async Task<(int Code, string Output, string Error)> RunAsync(string folder, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using Process process = Start(folder, environment, arguments);
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await output, await error);
    }
}
