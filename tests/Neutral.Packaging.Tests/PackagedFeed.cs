using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Neutral.Packaging.Tests;

/// <summary>
/// The solution's packages, packed once per run into a local feed with a version of their own (so that no copy cached
/// by an earlier run is ever used), and a scratch folder outside the repository. Disposing deletes both, and the
/// copies restore put in the NuGet cache.
/// </summary>
public sealed class PackagedFeed : IAsyncLifetime
{
    public string Repository { get; } = FindRepository();

    public string Version { get; } = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "neutral-consumer-" + Guid.NewGuid().ToString("N")[..10]);

    public string Feed => Path.Combine(Root, "feed");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        // Built by the solution build that ran before the tests; packing must not rebuild under running test hosts.
        CommandResult pack = await Command.DotnetAsync(Repository, "pack", "Neutral.sln", "-c", configuration, "--no-build", "-o", Feed, "-p:PackageVersion=" + Version, "-nologo");
        Assert.True(pack.ExitCode == 0, "dotnet pack failed:\n" + pack.All);
        string[] packages = Directory.GetFiles(Feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(new[] { $"Neutral.{Version}.nupkg", $"Neutral.Abstractions.{Version}.nupkg", $"Neutral.Cli.{Version}.nupkg", $"Neutral.Providers.Aws.{Version}.nupkg", $"Neutral.Providers.Azure.{Version}.nupkg", $"Neutral.Providers.OpenWhisk.{Version}.nupkg", $"Neutral.Providers.Redis.{Version}.nupkg", $"Neutral.Providers.Sdk.{Version}.nupkg", $"Neutral.Testing.{Version}.nupkg", $"Neutral.Workers.{Version}.nupkg" }, packages);
    }

    /// <summary>A fresh copy of the consumer app under <see cref="Root"/>, with its own nuget.config: the local feed, then nuget.org.</summary>
    public string Consumer(string name)
    {
        string folder = Path.Combine(Root, name);
        CopyFolder(Path.Combine(AppContext.BaseDirectory, "Consumer"), folder);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), $"""
            <Project>
              <PropertyGroup>
                <NeutralVersion>{Version}</NeutralVersion>
              </PropertyGroup>
            </Project>
            """);
        return folder;
    }

    public Task DisposeAsync()
    {
        TryDelete(Root);
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string package in new[] { "neutral", "neutral.abstractions", "neutral.cli", "neutral.providers.aws", "neutral.providers.azure", "neutral.providers.openwhisk", "neutral.providers.redis", "neutral.providers.sdk", "neutral.testing", "neutral.workers" })
        {
            TryDelete(Path.Combine(cache, package, Version.ToLowerInvariant()));
            string folder = Path.Combine(cache, package);
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }

        return Task.CompletedTask;
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    internal static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Neutral.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Neutral.sln not found above " + AppContext.BaseDirectory);
    }
}
