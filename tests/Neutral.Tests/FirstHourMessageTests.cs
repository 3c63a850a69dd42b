using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using Neutral.Testing;
using Xunit;

namespace Neutral.Tests;

/// <summary>
/// What a new user sees when something is missing, from a real client process (the MonteCarlo sample): one message
/// that names the fix, not a runtime's or an SDK's raw text.
/// </summary>
public sealed class FirstHourMessageTests
{
    /// <summary>An AWS configuration with nowhere to find credentials: no keys, no profile file, no instance metadata.</summary>
    private static Dictionary<string, string> AwsWithoutCredentials(string folder, params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["NEUTRAL__COMPUTE"] = "aws",
            ["NEUTRAL__AWS__REGION"] = "us-east-1",
            ["NEUTRAL__AWS__BUCKET"] = "neutral-first-hour",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(folder, "no-credentials"),
            ["AWS_CONFIG_FILE"] = Path.Combine(folder, "no-config"),
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        return environment;
    }

    [Fact]
    public async Task No_AWS_credentials_at_Connect_is_one_message_naming_the_settings_and_the_chain()
    {
        using var folder = new TempFolder("neutral-no-credentials");
        var (code, _, error) = await SampleProcess.RunAsync(folder.Path, AwsWithoutCredentials(folder.Path));

        Assert.True(code == 2, $"exit code {code}: {error}");
        Assert.Contains("Configuration key 'Neutral:Aws:AccessKeyId'", error, StringComparison.Ordinal);
        Assert.Contains("no AWS credentials were found. Set Neutral:Aws:AccessKeyId and Neutral:Aws:SecretAccessKey", error, StringComparison.Ordinal);
        Assert.Contains("AWS_ACCESS_KEY_ID", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception 1 of", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_AWS_credentials_during_a_deploy_is_the_same_message()
    {
        using var folder = new TempFolder("neutral-no-credentials-deploy");
        var (code, _, error) = await SampleProcess.RunAsync(folder.Path, AwsWithoutCredentials(folder.Path,
            ("NEUTRAL_WORKER", "aws-deploy"), ("DOTNET_STARTUP_HOOKS", "Neutral.Workers"), ("NEUTRAL__AWS__ROLE", "arn:aws:iam::123456789012:role/neutral")));

        Assert.True(code == 2, $"exit code {code}: {error}");
        Assert.Contains("neutral: the ", error, StringComparison.Ordinal);
        Assert.Contains("no AWS credentials were found", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception 1 of", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_runtime_name_with_a_typo_gets_a_did_you_mean()
    {
        using var folder = new TempFolder("neutral-worker-typo");
        var (code, _, error) = await SampleProcess.RunAsync(folder.Path, new Dictionary<string, string>
        {
            ["NEUTRAL_WORKER"] = "aws-deplyo",
            ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        });

        Assert.True(code == 4, $"exit code {code}: {error}");
        Assert.Contains("no worker runtime 'aws-deplyo' is registered in this process (NEUTRAL_WORKER=aws-deplyo). Did you mean 'aws-deploy'?", error, StringComparison.Ordinal);
        Assert.Contains("local", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_JIT_worker_started_without_the_startup_hook_is_told_to_set_it()
    {
        using var folder = new TempFolder("neutral-worker-hook");
        var (code, output, error) = await SampleProcess.RunAsync(folder.Path, new Dictionary<string, string> { ["NEUTRAL_WORKER"] = "aws-deploy" });

        Assert.True(code == 4, $"exit code {code}: {error}");
        Assert.Contains("set DOTNET_STARTUP_HOOKS=Neutral.Workers as well", error, StringComparison.Ordinal);
        Assert.DoesNotContain("StartupHookSupport is off", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Estimating pi", output, StringComparison.Ordinal); // Main never ran
    }

    /// <summary>
    /// The test command offline: Azurite comes from a cache kept across runs, and when it is not there and npm cannot
    /// reach its registry, the command stops at once saying so (it used to hang in npm).
    /// </summary>
    [Fact]
    public async Task The_test_servers_use_a_cached_Azurite_offline_and_fail_fast_without_one()
    {
        using var folder = new TempFolder("neutral-azurite-offline");
        string cache = Path.Combine(folder.Path, "cache");
        var (code, error) = await InstallAzuriteAsync(folder.Path, cache);
        Assert.True(code == 1, $"exit code {code}: {error}");
        Assert.Contains($"Azurite 3.35.0 is not installed in {cache} and npm could not fetch it", error, StringComparison.Ordinal);
        Assert.Contains("ECONNREFUSED", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(cache), "a failed install left a cache behind");

        // With it in the cache, nothing is fetched.
        string main = Path.Combine(cache, "node_modules", "azurite", "dist", "src", "blob", "main.js");
        Directory.CreateDirectory(Path.GetDirectoryName(main)!);
        await File.WriteAllTextAsync(main, "// cached");
        (code, error) = await InstallAzuriteAsync(folder.Path, cache);
        Assert.True(code == 0, $"exit code {code}: {error}");
        Assert.DoesNotContain("installing azurite", error, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Error)> InstallAzuriteAsync(string folder, string cache)
    {
        var info = new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(PublishedApp.Repository(), "scripts", "services.sh"), "install-azurite"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["NEUTRAL_AZURITE_CACHE"] = cache;
        info.Environment["NEUTRAL_SERVICES_DIR"] = Path.Combine(folder, "services");
        info.Environment["npm_config_registry"] = "http://127.0.0.1:9/"; // nothing listens there: offline
        info.Environment["npm_config_cache"] = Path.Combine(folder, "npm-cache");
        using var process = System.Diagnostics.Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var bound = new System.Threading.CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(bound.Token);
        await output;
        return (process.ExitCode, await error);
    }
}
