using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Cli;

/// <summary>The app's processes the tool starts (a self-deployment, a replay): their output passed on line by line, their end awaited.</summary>
internal static class ChildProcess
{
    /// <summary>Starts <paramref name="info"/> (its output redirected to the tool's) and returns its exit code; cancelling ends it and its children.</summary>
    public static async Task<int> RunAsync(ProcessStartInfo info, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        Task copyOut = CopyAsync(process.StandardOutput, output);
        Task copyError = CopyAsync(process.StandardError, error);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }

        await Task.WhenAll(copyOut, copyError);
        return process.ExitCode;
    }

    /// <summary>Ends a child process and its own children; one that already ended is left as it is.</summary>
    public static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static async Task CopyAsync(StreamReader from, TextWriter to)
    {
        while (await from.ReadLineAsync() is { } line)
        {
            await to.WriteLineAsync(line);
        }
    }
}
