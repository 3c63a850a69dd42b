using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers.OpenWhisk.Compute;

/// <summary>The limits of the deployed action.</summary>
/// <param name="TimeoutSeconds">The action's time limit (OpenWhisk's default range: 0.1 s to 5 min, more if the cluster allows).</param>
/// <param name="MemoryMb">The container's memory in MiB.</param>
/// <param name="Concurrency">Activations one container serves at once (1: one call at a time, as the worker expects).</param>
public sealed record ActionLimits(int TimeoutSeconds = 300, int MemoryMb = 256, int Concurrency = 1);

/// <summary>An application published as an action's executable.</summary>
/// <param name="Folder">The publish folder.</param>
/// <param name="Executable">The executable's file name in it.</param>
/// <param name="NativeAot">Whether it is a NativeAOT build (else self-contained JIT with ReadyToRun images).</param>
/// <param name="WhyNotNativeAot">Why a NativeAOT build was not used, when it was tried.</param>
public sealed record PublishedWorker(string Folder, string Executable, bool NativeAot, string? WhyNotNativeAot);

/// <summary>
/// Deploys the worker as an OpenWhisk native action: the published application zipped with its executable as
/// <c>exec</c> at the root, created or updated with <c>PUT /api/v1/namespaces/{ns}/actions/{name}?overwrite=true</c>
/// (kind <c>blackbox</c> on the action-proxy image, binary code), with its limits, the variables the worker needs as
/// init parameters (OpenWhisk passes them to <c>/init</c> as the action's environment), and an annotation with the
/// dispatch tables' hashes so that a stale action can be told before a job starts.
/// </summary>
public static class OpenWhiskDeployer
{
    /// <summary>The image of OpenWhisk's action proxy for native actions.</summary>
    public const string ActionLoopImage = "openwhisk/actionloop-v2:latest";

    /// <summary>The annotation holding the deployed dispatch tables' function ids and hashes.</summary>
    public const string TablesAnnotation = "neutral-tables";

    /// <summary>
    /// Zips a published application folder with <paramref name="executable"/> stored as <c>exec</c> at the root (an
    /// apphost or NativeAOT binary does not depend on its own file name) and every other file beside it, keeping the
    /// executable bits.
    /// </summary>
    public static byte[] Package(string publishFolder, string executable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publishFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
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
                string name = file == entry ? "exec" : Path.GetRelativePath(publishFolder, file).Replace('\\', '/');
                if (name.EndsWith(".dbg", StringComparison.Ordinal) || name.EndsWith(".pdb", StringComparison.Ordinal))
                {
                    continue; // symbols stay on the build machine
                }

                ZipArchiveEntry item = zip.CreateEntry(name, CompressionLevel.Optimal);
                // rwx for the executable, rw for the rest (upper 16 bits: the Unix mode, as zip tools write it).
                item.ExternalAttributes = (name == "exec" ? Convert.ToInt32("100755", 8) : Convert.ToInt32("100644", 8)) << 16;
                using Stream target = item.Open();
                using FileStream source = File.OpenRead(file);
                source.CopyTo(target);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>The JSON body of the action's create-or-update request.</summary>
    public static string ActionBody(byte[] zip, ActionLimits limits, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> tables)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(tables);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("exec");
            json.WriteString("kind", "blackbox");
            json.WriteString("image", ActionLoopImage);
            json.WriteString("code", Convert.ToBase64String(zip));
            json.WriteBoolean("binary", true);
            json.WriteString("main", "main");
            json.WriteEndObject();
            json.WriteStartObject("limits");
            json.WriteNumber("timeout", limits.TimeoutSeconds * 1000);
            json.WriteNumber("memory", limits.MemoryMb);
            json.WriteNumber("concurrency", limits.Concurrency);
            json.WriteEndObject();
            json.WriteStartArray("parameters");
            foreach (var (key, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("key", key);
                json.WriteString("value", value);
                json.WriteBoolean("init", true);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("annotations");
            json.WriteStartObject();
            json.WriteString("key", TablesAnnotation);
            json.WriteStartObject("value");
            foreach (var (id, hash) in tables.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                json.WriteString(id, hash);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Packages <paramref name="publishFolder"/> with <paramref name="executable"/> as <c>exec</c> and creates or updates
    /// the action with it; returns the zip's size in bytes.
    /// </summary>
    /// <param name="settings">Where the controller is, the namespace, the action name and the key.</param>
    /// <param name="publishFolder">A self-contained or NativeAOT publish of the application for linux-x64.</param>
    /// <param name="executable">The application's executable, relative to the folder.</param>
    /// <param name="limits">The action's limits.</param>
    /// <param name="environment">Variables the action starts with (init parameters): <c>NEUTRAL_WORKER=openwhisk</c>, the store's keys.</param>
    /// <param name="tables">Every function id the application serves, and its signature hash (as <c>InvocationEnvelope.FormatHash</c> writes it).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static async Task<int> DeployAsync(OpenWhiskSettings settings, string publishFolder, string executable, ActionLimits limits,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> tables, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        byte[] zip = Package(publishFolder, executable);
        await PutActionAsync(settings, ActionBody(zip, limits, environment, tables), cancellationToken).ConfigureAwait(false);
        return zip.Length;
    }

    /// <summary>
    /// Publishes <paramref name="project"/> as an action's executable for linux-x64 into <paramref name="output"/>:
    /// NativeAOT when it builds without a trimming or AOT warning, else self-contained with ReadyToRun images (the JIT
    /// path; the provider's MinIO client, for one, is not trimming-safe). Runs <c>dotnet publish</c>; the user writes
    /// no worker project. Deploy the result with <c>NEUTRAL_WORKER=openwhisk-deploy</c> (see the README) or
    /// <see cref="DeployAsync"/>.
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

    /// <summary>Creates or updates the action.</summary>
    /// <exception cref="InvalidOperationException">The controller refused it (the message carries its reason).</exception>
    public static async Task PutActionAsync(OpenWhiskSettings settings, string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using HttpClient http = OpenWhiskComputeBackend.CreateClient(settings, TimeSpan.FromMinutes(5));
        var url = new Uri(settings.ApiHost, $"api/v1/namespaces/{Uri.EscapeDataString(settings.Namespace)}/actions/{Uri.EscapeDataString(settings.Action)}?overwrite=true");
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string reply = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"OpenWhisk refused the action {settings.Action} (HTTP {(int)response.StatusCode}): {(reply.Length <= 300 ? reply : reply[..300])}");
        }
    }
}
