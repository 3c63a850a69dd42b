using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading.Tasks;

namespace Neutral.Packaging.Tests;

/// <summary>
/// Packing under another version (<c>scripts/pack.sh -p:PackageVersion=...</c>) versions the generator inside the
/// package too, and so the <c>[GeneratedCode]</c> stamp of the code it writes (the generator's informational version:
/// Neutral.Generators.Tests checks the stamp against it). The solution's feed (<see cref="PackagedFeed"/>) is packed
/// <c>--no-build</c> from the solution build and cannot show it: here Neutral.Abstractions, which carries the
/// generator, is built and packed on its own, in a copy of what it builds from, so that the repository's bin and obj
/// stay as the running tests left them.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class GeneratorVersionTests : IDisposable
{
    private const string Version = "0.1.1-test.1";

    private static readonly string[] s_files = [".editorconfig", "Directory.Build.props", "Directory.Build.targets", "Directory.Packable.targets", "Directory.Packages.props", "global.json", "nuget.config", "docs/package-readme.md"];

    private static readonly string[] s_projects = ["Abstractions", "Generators"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "neutral-generator-version-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task Packing_Neutral_Abstractions_under_another_version_packs_a_generator_of_that_version()
    {
        string repository = PackagedFeed.FindRepository();
        foreach (string file in s_files)
        {
            Copy(Path.Combine(repository, file), Path.Combine(_root, file));
        }

        foreach (string project in s_projects)
        {
            string from = Path.Combine(repository, project);
            foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(from, file);
                if (relative.Split(Path.DirectorySeparatorChar)[0] is not ("bin" or "obj"))
                {
                    Copy(file, Path.Combine(_root, project, relative));
                }
            }
        }

        // No ReadyToRun images (they are not what is checked, and cost a crossgen of the library); the copy is no git
        // checkout, so there is no source revision to look up.
        string feed = Path.Combine(_root, "feed");
        CommandResult pack = await Command.DotnetAsync(_root, "pack", "Abstractions/Neutral.Abstractions.csproj", "-c", "Release", "-o", feed, "-nologo",
            "-p:PackageVersion=" + Version, "-p:NeutralReadyToRun=false", "-p:EnableSourceControlManagerQueries=false");
        Assert.True(pack.ExitCode == 0, "dotnet pack failed:\n" + pack.All);

        string package = Path.Combine(feed, $"Neutral.Abstractions.{Version}.nupkg");
        Assert.True(File.Exists(package), $"no {package}: " + string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName)));
        string generator = Path.Combine(_root, "Neutral.Generators.dll");
        using (ZipArchive archive = ZipFile.OpenRead(package))
        {
            ZipArchiveEntry entry = Assert.Single(archive.Entries, e => e.FullName == "analyzers/dotnet/cs/Neutral.Generators.dll");
            entry.ExtractToFile(generator);
        }

        // The informational version (what the generator stamps, less any +metadata) and the assembly version.
        FileVersionInfo info = FileVersionInfo.GetVersionInfo(generator);
        Assert.Equal(Version, info.ProductVersion?.Split('+')[0]);
        Assert.Equal("0.1.1.0", info.FileVersion);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }
}
