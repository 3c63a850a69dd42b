using System;
using System.Diagnostics;

namespace Neutral.Testing;

/// <summary>The test servers of <c>scripts/services.sh</c> that tests act on: the gateways that may be restarted mid-job.</summary>
public static class TestServers
{
    /// <summary>
    /// The address of restartable gateway <paramref name="name"/> (<c>ow</c> or <c>aws</c>): an RGW of the same cluster
    /// as the main one, restarted by one test process only, so that tests running beside it keep their gateway.
    /// </summary>
    public static Uri RestartableEndpoint(string name)
    {
        int offset = name switch
        {
            "ow" => 1,
            "aws" => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "ow or aws"),
        };
        return new Uri(Environment.GetEnvironmentVariable("NEUTRAL_TEST_S3_RESTARTABLE_ENDPOINT_" + name.ToUpperInvariant()) ?? $"http://127.0.0.1:{7480 + offset}");
    }

    /// <summary>Restarts the restartable Azurite (<c>bash scripts/services.sh restart-azurite</c>: Blob and Queue, their data kept on disk) and waits until it answers again.</summary>
    public static void RestartAzurite() => Run("restart-azurite");

    /// <summary>Restarts the restartable Redis (<c>bash scripts/services.sh restart-redis</c>: its append-only file kept) and waits until it has loaded its data again.</summary>
    public static void RestartRedis() => Run("restart-redis");

    /// <summary>Restarts gateway <paramref name="name"/> (<c>bash scripts/services.sh restart-gateway {name}</c>) and waits until it answers again.</summary>
    public static void RestartGateway(string name) => Run("restart-gateway", name);

    private static void Run(params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { WorkingDirectory = PublishedApp.Repository(), RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("scripts/services.sh");
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"services.sh {string.Join(' ', arguments)} failed (are the servers from scripts/services.sh running?): {error}");
        }
    }
}
