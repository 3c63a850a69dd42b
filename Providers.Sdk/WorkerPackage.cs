using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers;

/// <summary>An application published as a cloud worker's executable.</summary>
/// <param name="Folder">The publish folder.</param>
/// <param name="Executable">The executable's file name in it.</param>
/// <param name="NativeAot">Whether it is a NativeAOT build (else self-contained JIT with ReadyToRun images).</param>
/// <param name="WhyNotNativeAot">Why a NativeAOT build was not used, when it was tried.</param>
public sealed record PublishedWorker(string Folder, string Executable, bool NativeAot, string? WhyNotNativeAot);

/// <summary>
/// What every provider's deployment shares: publishing the user's application as its own worker for linux-x64 (no
/// worker project), and zipping the publish folder with the executable under the name the platform starts
/// (<c>bootstrap</c> on Lambda, <c>exec</c> on OpenWhisk).
/// </summary>
public static class WorkerPackage
{
    /// <summary>
    /// Zips a published application folder with <paramref name="executable"/> stored as <paramref name="entryName"/> at
    /// the root (an apphost or NativeAOT binary does not depend on its own file name) and every other file beside it,
    /// keeping the executable bits; symbols (<c>.pdb</c>, <c>.dbg</c>) stay on the build machine.
    /// </summary>
    public static byte[] Zip(string publishFolder, string executable, string entryName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publishFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        ArgumentException.ThrowIfNullOrWhiteSpace(entryName);
        string entry = Path.Combine(publishFolder, executable);
        if (!File.Exists(entry))
        {
            throw new FileNotFoundException($"The published folder '{publishFolder}' has no executable '{executable}'.", entry);
        }

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (string file in Directory.GetFiles(publishFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string name = file == entry ? entryName : Path.GetRelativePath(publishFolder, file).Replace('\\', '/');
                if (name.EndsWith(".dbg", StringComparison.Ordinal) || name.EndsWith(".pdb", StringComparison.Ordinal))
                {
                    continue;
                }

                ZipArchiveEntry item = zip.CreateEntry(name, CompressionLevel.Optimal);
                // rwx for the executable, rw for the rest (upper 16 bits: the Unix mode, as zip tools write it).
                item.ExternalAttributes = (name == entryName ? Convert.ToInt32("100755", 8) : Convert.ToInt32("100644", 8)) << 16;
                using Stream target = item.Open();
                using FileStream source = File.OpenRead(file);
                source.CopyTo(target);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Publishes <paramref name="project"/> for linux-x64 into <paramref name="output"/>: NativeAOT when it builds
    /// without a trimming or AOT warning, else self-contained with ReadyToRun images (the JIT path). Runs
    /// <c>dotnet publish</c>; the user writes no worker project.
    /// </summary>
    /// <param name="project">The application's project file or folder.</param>
    /// <param name="output">The folder to publish into (emptied first).</param>
    /// <param name="nativeAot">true: NativeAOT or fail; false: self-contained JIT; null: NativeAOT when it builds cleanly.</param>
    /// <param name="cancellationToken">Stops the build.</param>
    /// <exception cref="InvalidOperationException">The build failed; the message carries its errors.</exception>
    public static async Task<PublishedWorker> PublishAsync(string project, string output, bool? nativeAot = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(project);
        ArgumentException.ThrowIfNullOrWhiteSpace(output);
        string? fallback = null;
        if (nativeAot != false)
        {
            var (code, log) = await RunPublishAsync(project, output, ["-p:PublishAot=true", "-p:TreatWarningsAsErrors=false"], cancellationToken).ConfigureAwait(false);
            string[] warnings = log.Split('\n').Where(l => l.Contains(" warning IL", StringComparison.Ordinal) || l.Contains(" error IL", StringComparison.Ordinal))
                .Select(l => l.Trim()).Distinct(StringComparer.Ordinal).ToArray();
            if (code == 0 && warnings.Length == 0)
            {
                return new PublishedWorker(Path.GetFullPath(output), ExecutableOf(project, output), NativeAot: true, null);
            }

            fallback = code != 0 ? "the NativeAOT build failed: " + Tail(log) : $"the NativeAOT build has {warnings.Length} trimming or AOT warnings, e.g. {warnings[0]}";
            if (nativeAot == true)
            {
                throw new InvalidOperationException(fallback);
            }
        }

        var (jitCode, jitLog) = await RunPublishAsync(project, output, ["--self-contained", "-p:PublishReadyToRun=true"], cancellationToken).ConfigureAwait(false);
        if (jitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed (exit code {jitCode}): {Tail(jitLog)}");
        }

        return new PublishedWorker(Path.GetFullPath(output), ExecutableOf(project, output), NativeAot: false, fallback);
    }

    private static async Task<(int Code, string Log)> RunPublishAsync(string project, string output, string[] extra, CancellationToken cancellationToken)
    {
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "publish", project, "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo", "-clp:NoSummary" }.Concat(extra))
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    /// <summary>The executable a publish wrote: the project's assembly name, which the publish folder has without extension.</summary>
    private static string ExecutableOf(string project, string output)
    {
        string name = Path.GetFileNameWithoutExtension(Directory.Exists(project)
            ? Directory.GetFiles(project, "*.*proj").SingleOrDefault() ?? throw new InvalidOperationException($"'{project}' holds no single project file.")
            : project);
        // An AssemblyName other than the project's: the one apphost beside a .dll of the same name (JIT), or the only executable (NativeAOT).
        if (File.Exists(Path.Combine(output, name)))
        {
            return name;
        }

        string[] apphosts = Directory.GetFiles(output).Where(f => Path.GetExtension(f).Length == 0
            && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(f) & UnixFileMode.UserExecute) != 0)
            && !Path.GetFileName(f).StartsWith("createdump", StringComparison.Ordinal)).ToArray();
        return apphosts.Length == 1 ? Path.GetFileName(apphosts[0])
            : throw new InvalidOperationException($"the publish folder '{output}' has no executable named {name}, and {apphosts.Length} other candidates.");
    }

    private static string Tail(string log)
    {
        string[] errors = log.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct(StringComparer.Ordinal).Take(5).ToArray();
        return errors.Length > 0 ? string.Join(" | ", errors) : log.Length <= 2000 ? log : log[^2000..];
    }
}
