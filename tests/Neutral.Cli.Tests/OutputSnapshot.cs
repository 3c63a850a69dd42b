using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace Neutral.Cli.Tests;

/// <summary>
/// Baselines of the tool's output: <c>Snapshots/{name}.verified.txt</c>. A mismatch writes <c>.received.txt</c> beside
/// it and fails with the diff command; <c>NEUTRAL_ACCEPT_SNAPSHOTS=1</c> rewrites the baseline (never when
/// <c>CI=true</c>); a missing baseline fails. Line endings are compared as <c>\n</c>.
/// </summary>
internal static class OutputSnapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string file = "")
    {
        string stem = Path.Combine(Path.GetDirectoryName(file)!, "Snapshots", name);
        string verified = stem + ".verified.txt";
        string received = stem + ".received.txt";
        actual = actual.ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable("NEUTRAL_ACCEPT_SNAPSHOTS") == "1"
            && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        if (!File.Exists(verified))
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"No snapshot {verified}. Inspect {received}, then accept with NEUTRAL_ACCEPT_SNAPSHOTS=1.");
        }

        if (File.ReadAllText(verified).ReplaceLineEndings("\n") != actual)
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"The output differs from its snapshot: diff -u {verified} {received}");
        }

        File.Delete(received);
    }
}
