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
    /// Publishes <paramref name="project"/> once for every test process of this build: test assemblies run in parallel,
    /// and two publishes of one project share its obj folder and break each other. Under a lock file keyed by the
    /// project's path alone, the first caller runs <paramref name="publish"/> (given an output folder) and records its
    /// result with the build's stamp; later callers get that result. The stamp is the newest top-level file of the
    /// project's Release build folders (<c>bin/Release/{tfm}/</c>), which a runtime-specific publish (it writes under
    /// <c>{tfm}/{rid}/</c>) does not change, so a rebuild publishes again and a publish does not.
    /// </summary>
    public static async Task<T> PublishOnceAsync<T>(string project, Func<string, Task<T>> publish)
    {
        ArgumentNullException.ThrowIfNull(publish);
        string root = RecordFolder(project);
        Directory.CreateDirectory(root);
        using FileStream held = await LockAsync(Path.Combine(root, ".lock"));
        string stamp = BuildStamp(project);
        string record = Path.Combine(root, "published-" + stamp + ".json");
        if (File.Exists(record))
        {
            return System.Text.Json.JsonSerializer.Deserialize<T>(await File.ReadAllTextAsync(record))!;
        }

        string output = Path.Combine(root, "out");
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        T result = await publish(output);
        await File.WriteAllTextAsync(record, System.Text.Json.JsonSerializer.Serialize(result));
        return result;
    }

    /// <summary>
    /// Holds <paramref name="project"/>'s publish lock (<see cref="PublishOnceAsync"/>'s) until disposed: for a test
    /// that publishes the project itself, through the tool, beside the test processes that publish it once.
    /// </summary>
    public static async Task<IDisposable> HoldAsync(string project)
    {
        string root = RecordFolder(project);
        Directory.CreateDirectory(root);
        return await LockAsync(Path.Combine(root, ".lock"));
    }

    /// <summary>The temporary folder holding <paramref name="project"/>'s lock, published output and records.</summary>
    public static string RecordFolder(string project) =>
        Path.Combine(Path.GetTempPath(), "neutral-published-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(project))))[..16]);

    /// <summary>The newest last-write time, in ticks, of the files directly in the project's <c>bin/Release/*/</c> folders.</summary>
    private static string BuildStamp(string project)
    {
        string build = Path.Combine(project, "bin", "Release");
        long newest = Directory.Exists(build)
            ? Directory.GetDirectories(build).SelectMany(d => Directory.GetFiles(d)).Select(f => File.GetLastWriteTimeUtc(f).Ticks).DefaultIfEmpty(0).Max()
            : 0;
        return newest.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 900)
            {
                await Task.Delay(1000);
            }
        }
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
