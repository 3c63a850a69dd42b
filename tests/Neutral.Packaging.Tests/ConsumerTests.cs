using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace Neutral.Packaging.Tests;

/// <summary>
/// A user's app (tests/Consumer: a console app and its library, PackageReference only) built, published and run
/// against the freshly packed packages. One class: the steps share the feed and run one at a time.
/// </summary>
[Trait("Category", "Packaging")]
public sealed partial class ConsumerTests(PackagedFeed feed) : IClassFixture<PackagedFeed>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    [GeneratedRegex(@"^workers (?<hosts>.+)$", RegexOptions.Multiline)]
    private static partial Regex WorkersLine();

    [GeneratedRegex(@"^client (?<pid>\d+)$", RegexOptions.Multiline)]
    private static partial Regex ClientLine();

    /// <summary>The app's answer: both maps' results, computed in worker processes other than the client.</summary>
    private static void AssertRanAJob(CommandResult run)
    {
        Assert.True(run.ExitCode == 0, $"the app failed (exit code {run.ExitCode}):\n{run.All}");
        Assert.Contains("areas 650", run.Output, StringComparison.Ordinal);
        Assert.Contains("greetings hello n0 from ", run.Output, StringComparison.Ordinal);
        string client = ClientLine().Match(run.Output).Groups["pid"].Value;
        string[] hosts = WorkersLine().Match(run.Output).Groups["hosts"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(hosts);
        Assert.All(hosts, host => Assert.NotEqual(client, host[(host.LastIndexOf('/') + 1)..]));
    }

    [Fact]
    public async Task A_console_app_with_package_references_only_runs_a_job_with_dotnet_run()
    {
        string folder = feed.Consumer("run");
        CommandResult run = await Command.DotnetAsync(Path.Combine(folder, "App"), "run", "-c", "Release");
        // App.Remote.Greeter compiled: the generator came with the package, through the library's reference.
        AssertRanAJob(run);
        // A portable app on linux-x64 picks the package's precompiled image through its deps.json, client and worker alike.
        AssertLoaded(run, "r2r runtimes/linux-x64/lib/net10.0/Neutral.dll");
    }

    /// <summary>
    /// The tool as a user installs it (README: <c>dotnet tool install ... --add-source artifacts/packages</c>), into a
    /// folder of this test's rather than the user's global tools, then run in a clean folder.
    /// </summary>
    [Fact]
    public async Task The_neutral_tool_installs_from_the_packages_and_runs_in_a_clean_folder()
    {
        string tools = Path.Combine(feed.Root, "tools");
        string clean = Path.Combine(feed.Root, "tool-user");
        Directory.CreateDirectory(clean);
        CommandResult install = await Command.DotnetAsync(feed.Root, "tool", "install", "Neutral.Cli", "--tool-path", tools, "--version", feed.Version, "--add-source", feed.Feed);
        Assert.True(install.ExitCode == 0, "dotnet tool install failed:\n" + install.All);
        string neutral = Path.Combine(tools, "neutral");

        CommandResult version = await Command.RunAsync(neutral, ["--version"], clean, RunTimeout);
        Assert.True(version.ExitCode == 0, version.All);
        // The version the tool was built with (the feed repacks that build under a version of its own).
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Output.Trim());

        CommandResult init = await Command.RunAsync(neutral, ["init", "--provider", "aws"], clean, RunTimeout);
        Assert.True(init.ExitCode == 0, init.All);
        CommandResult config = await Command.RunAsync(neutral, ["config"], clean, RunTimeout);
        Assert.True(config.ExitCode == 0, config.All);
        // The bucket is left for the user to fill in (a placeholder would be created as a real bucket).
        Assert.Matches(@"Neutral:Aws:Bucket\s+│ \(not set\)", config.Output);
        Assert.Matches(@"Neutral:Aws:Region\s+│ us-east-1", config.Output);

        // No store in a clean folder with the local default: one line, exit code 2.
        File.Delete(Path.Combine(clean, "neutral.json"));
        CommandResult jobs = await Command.RunAsync(neutral, ["jobs"], clean, RunTimeout);
        Assert.Equal(2, jobs.ExitCode);
        Assert.StartsWith("neutral: there is no local store at ", jobs.Error, StringComparison.Ordinal);

        // The doctor's round trip on the local default: the probe served by a worker process the installed tool starts.
        CommandResult doctor = await Command.RunAsync(neutral, ["doctor"], clean, RunTimeout);
        Assert.True(doctor.ExitCode == 0, doctor.All);
        Assert.Matches(@"call ran .*runtime local", doctor.Output);
        Assert.Contains("All steps passed", doctor.Output, StringComparison.Ordinal);
    }

    /// <summary>The image of Neutral the app's client and its worker loaded (the app prints both).</summary>
    private static void AssertLoaded(CommandResult run, string image)
    {
        Assert.Contains("neutral client " + image + "\n", run.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("neutral worker " + image + "\n", run.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    public static TheoryData<string, string[]> Publishes => new()
    {
        { "framework-dependent", [] },
        { "linux-x64", ["-r", "linux-x64"] },
        { "self-contained", ["-r", "linux-x64", "--self-contained"] },
        { "nativeaot", ["-r", "linux-x64", "-p:PublishAot=true"] },
    };

    [Theory]
    [MemberData(nameof(Publishes))]
    public async Task A_published_app_runs_a_job_from_another_folder(string name, string[] options)
    {
        string folder = feed.Consumer("publish-" + name);
        string output = Path.Combine(folder, "out");
        CommandResult publish = await Command.DotnetAsync(Path.Combine(folder, "App"), ["publish", "-c", "Release", "-o", output, "-nologo", .. options]);
        Assert.True(publish.ExitCode == 0, $"dotnet publish {string.Join(' ', options)} failed:\n{publish.All}");
        Assert.DoesNotMatch(@"warning (IL|NETSDK|NEU)\d+", publish.Output);

        if (name == "nativeaot")
        {
            Assert.False(File.Exists(Path.Combine(output, "App.dll")), "a NativeAOT publish has no managed entry assembly");
        }
        else if (name == "self-contained")
        {
            Assert.True(File.Exists(Path.Combine(output, "libhostfxr.so")), "a self-contained publish carries the runtime");
        }

        // Run from elsewhere, as a deployed app would be: its store goes to that folder's .neutral.
        string elsewhere = Directory.CreateDirectory(Path.Combine(folder, "run")).FullName;
        CommandResult run = await Command.RunAsync(Path.Combine(output, "App"), [], elsewhere, RunTimeout);
        AssertRanAJob(run);
        Assert.True(Directory.Exists(Path.Combine(elsewhere, ".neutral")));
        AssertLoaded(run, name switch
        {
            "framework-dependent" => "r2r runtimes/linux-x64/lib/net10.0/Neutral.dll",
            "nativeaot" => "native",
            _ => "r2r Neutral.dll",
        });
    }

    [Fact]
    public Task An_app_with_the_AWS_provider_package_publishes_with_NativeAOT_without_warnings_and_runs_a_job_on_S3() =>
        ProviderPackageRunsAsync("aws", "AwsProvider", "S3 (Ceph RGW)", new Dictionary<string, string?>
        {
            ["NEUTRAL__STORAGE"] = "s3",
            ["NEUTRAL__AWS__REGION"] = "us-east-1",
            ["NEUTRAL__AWS__BUCKET"] = "neutral-consumer-" + Guid.NewGuid().ToString("N")[..12],
            ["NEUTRAL__AWS__SERVICEURL"] = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ENDPOINT") ?? "http://127.0.0.1:7480",
            ["NEUTRAL__AWS__ACCESSKEYID"] = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY",
            ["NEUTRAL__AWS__SECRETACCESSKEY"] = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET",
        });

    [Fact]
    public Task An_app_with_the_Azure_provider_package_publishes_with_NativeAOT_without_warnings_and_runs_a_job_on_Blob_storage() =>
        ProviderPackageRunsAsync("azure", "AzureProvider", "Blob storage (Azurite)", new Dictionary<string, string?>
        {
            ["NEUTRAL__STORAGE"] = "azureblob",
            ["NEUTRAL__AZURE__CONTAINER"] = "neutral-consumer-" + Guid.NewGuid().ToString("N")[..12],
            // Azurite's well-known development account: public, a throwaway key of a loopback server.
            ["NEUTRAL__AZURE__CONNECTIONSTRING"] = Environment.GetEnvironmentVariable("NEUTRAL_TEST_AZURE_CONNECTION_STRING")
                ?? "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;",
        });

    [Fact]
    public Task An_app_with_the_OpenWhisk_provider_package_publishes_with_NativeAOT_without_warnings_and_runs_a_job_on_MinIO_storage() =>
        ProviderPackageRunsAsync("openwhisk", "OpenWhiskProvider", "the minio store (Ceph RGW)", new Dictionary<string, string?>
        {
            ["NEUTRAL__STORAGE"] = "minio",
            ["NEUTRAL__MINIO__ENDPOINT"] = (Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ENDPOINT") ?? "http://127.0.0.1:7480").Replace("http://", "", StringComparison.Ordinal),
            ["NEUTRAL__MINIO__BUCKET"] = "neutral-consumer-" + Guid.NewGuid().ToString("N")[..12],
            ["NEUTRAL__MINIO__ACCESSKEY"] = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_ACCESS_KEY") ?? "NEUTRALTESTKEY",
            ["NEUTRAL__MINIO__SECRETKEY"] = Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_SECRET_KEY") ?? "NEUTRALTESTSECRET",
        });

    /// <summary>
    /// The consumer app with a provider's package (<c>-p:{property}=true</c>) published with NativeAOT: no IL warning
    /// (the provider needs no trimming or AOT exception, so <c>WorkerPackage.PublishAsync</c> picks NativeAOT for such
    /// an app), then run with local workers and the store on the test servers: the provider came from its package,
    /// registered by the generator in the app, and its store works in a NativeAOT client and its workers.
    /// </summary>
    private async Task ProviderPackageRunsAsync(string name, string property, string store, Dictionary<string, string?> environment)
    {
        string folder = feed.Consumer(name + "-nativeaot");
        string output = Path.Combine(folder, "out");
        CommandResult publish = await Command.DotnetAsync(Path.Combine(folder, "App"),
            "publish", "-c", "Release", "-o", output, "-nologo", "-r", "linux-x64", "-p:PublishAot=true", $"-p:{property}=true");
        Assert.True(publish.ExitCode == 0, "dotnet publish failed:\n" + publish.All);
        Assert.DoesNotMatch(@"warning (IL|NETSDK|NEU)\d+", publish.Output);
        AssertNativeExecutable(output);

        CommandResult run = await Command.RunAsync(Path.Combine(output, "App"), [], Directory.CreateDirectory(Path.Combine(folder, "run")).FullName, RunTimeout, environment);
        Assert.True(run.ExitCode == 0, $"the app failed on {store} (are the servers from scripts/services.sh running?):\n{run.All}");
        AssertRanAJob(run);
        Assert.False(Directory.Exists(Path.Combine(folder, "run", ".neutral")), $"the job went to the local store, not {store}");
        AssertLoaded(run, "native");
    }

    /// <summary>A NativeAOT publish: the app is an ELF executable with no runtime and no managed assembly beside it.</summary>
    private static void AssertNativeExecutable(string output)
    {
        byte[] magic = new byte[4];
        using (FileStream app = File.OpenRead(Path.Combine(output, "App")))
        {
            app.ReadExactly(magic);
        }

        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, magic);
        string[] managed = Directory.GetFiles(output).Select(Path.GetFileName).Where(f => f!.EndsWith(".dll", StringComparison.Ordinal) || f == "libcoreclr.so").ToArray()!;
        Assert.True(managed.Length == 0, "a NativeAOT publish carries no runtime or IL, but has " + string.Join(", ", managed));
    }

    [Fact]
    public async Task A_process_started_as_a_worker_whose_hook_cannot_run_stops_before_Main()
    {
        string folder = feed.Consumer("no-hook");
        string output = Path.Combine(folder, "out");
        CommandResult publish = await Command.DotnetAsync(Path.Combine(folder, "App"), "publish", "-c", "Release", "-o", output, "-nologo");
        Assert.True(publish.ExitCode == 0, publish.All);

        // The variable without the startup hook (a deployment run by hand, say): Main never runs, and the message says
        // which variable to add.
        CommandResult run = await Command.RunAsync(Path.Combine(output, "App"), [], folder, RunTimeout,
            new Dictionary<string, string?> { ["NEUTRAL_WORKER"] = "local" });
        Assert.Equal(4, run.ExitCode);
        Assert.Contains("set DOTNET_STARTUP_HOOKS=Neutral.Workers as well", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("areas", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_executable_that_excludes_the_generator_is_warned_at_build_time()
    {
        string folder = feed.Consumer("no-generator");
        string project = Path.Combine(folder, "Bare");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "Bare.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Neutral" Version="$(NeutralVersion)" />
              </ItemGroup>
              <!-- Analyzers switched off by hand: NuGet's ExcludeAssets cannot drop them, they flow through every path. -->
              <Target Name="DropAnalyzers" AfterTargets="ResolveLockFileAnalyzers">
                <ItemGroup>
                  <Analyzer Remove="@(Analyzer)" />
                </ItemGroup>
              </Target>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), "await using var cloud = Neutral.Cloud.Connect();\n");
        CommandResult build = await Command.DotnetAsync(project, "build", "-c", "Release", "-nologo");
        Assert.True(build.ExitCode == 0, build.All);
        Assert.Contains("warning NEU1011", build.Output, StringComparison.Ordinal);
        Assert.Contains("'Bare'", build.Output, StringComparison.Ordinal);

        // The consumer app, which runs it, is not warned.
        CommandResult app = await Command.DotnetAsync(Path.Combine(folder, "App"), "build", "-c", "Release", "-nologo");
        Assert.True(app.ExitCode == 0, app.All);
        Assert.DoesNotContain("NEU1011", app.Output, StringComparison.Ordinal);
    }
}
