using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Neutral.Testing;

/// <summary>Running a published application as a user's shell would: the repository's samples, and a process with only the given settings.</summary>
public static class PublishedApp
{
    /// <summary>The repository root (the folder with <c>Neutral.sln</c>) above the test's output.</summary>
    public static string Repository()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Neutral.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Neutral.sln) is not above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Runs <paramref name="executable"/> with the test host's <c>NEUTRAL*</c> and <c>DOTNET_*</c> variables removed and
    /// <paramref name="environment"/> added; returns its exit code and its standard output and error.
    /// </summary>
    public static async Task<(int Code, string Output)> RunAsync(string executable, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(executable) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("NEUTRAL", StringComparison.Ordinal) || k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await output + await error);
    }
}
