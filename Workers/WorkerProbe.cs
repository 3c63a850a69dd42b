using System;
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Neutral.Codec;
using Neutral.Dispatch;
using Neutral.Workers.Local;

namespace Neutral.Workers;

/// <summary>
/// The one function every worker serves whatever the application: <c>neutral doctor</c>'s round trip. It takes a
/// string and answers it back with what the worker is (host, runtime, build, Neutral's version, how long its process has
/// been up), so that the tool can run a real call on a deployed worker without knowing the application's methods. Its id
/// is reserved (no <c>[Remote]</c> method can have it: ids are C# signatures) and it is not in the deployed tables, so a
/// worker built before it answers as a stale worker, which is what it is.
/// </summary>
internal static class WorkerProbe
{
    /// <summary>The reserved function id.</summary>
    public const string FunctionId = "neutral:probe";

    /// <summary>The signature hash: the probe's version (a worker checks it as any function's).</summary>
    public const ulong SignatureHash = 0x6e65757472616c01;

    /// <summary>Whether <paramref name="functionId"/> names a function built into every worker rather than one of the application's.</summary>
    public static bool IsBuiltIn(string functionId) => functionId.StartsWith("neutral:", StringComparison.Ordinal);

    /// <summary>Answers the probe: the argument back, then one <c>name=value</c> line per fact.</summary>
    public static void Run(ulong signatureHash, ReadOnlyMemory<byte> arguments, IBufferWriter<byte> result)
    {
        if (signatureHash != SignatureHash)
        {
            throw RemoteDispatch.Stale(FunctionId, signatureHash, SignatureHash);
        }

        var reader = new CodecReader(arguments.Span);
        string nonce = reader.ReadNonNullString();
        reader.EnsureEnd();
        var writer = new CodecWriter(result);
        writer.WriteString(Describe(nonce));
        writer.Flush();
    }

    private static string Describe(string nonce)
    {
        var text = new StringBuilder(nonce).Append('\n');
        void Line(string name, string value) => text.Append(name).Append('=').Append(value.ReplaceLineEndings(" ")).Append('\n');
        Line("host", Environment.MachineName);
        Line("runtime", WorkerStart.Mode ?? "in the client's process");
        Line("os", RuntimeInformation.OSDescription);
        Line("rid", RuntimeInformation.RuntimeIdentifier);
        Line("build", RuntimeFeature.IsDynamicCodeSupported ? ".NET " + Environment.Version.ToString() + " (JIT)" : "NativeAOT");
        Line("neutral", typeof(WorkerProbe).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown");
        Line("functions", RemoteDispatch.Functions.Count.ToString(CultureInfo.InvariantCulture));
        using (Process self = Process.GetCurrentProcess())
        {
            Line("uptime_ms", ((long)(DateTime.UtcNow - self.StartTime.ToUniversalTime()).TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
