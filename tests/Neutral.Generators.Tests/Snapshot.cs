using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Neutral.Generators.Tests;

/// <summary>
/// Baseline snapshots of generated files: <c>Snapshots/{Test}.{HintName}.verified.cs</c>. A mismatch writes
/// <c>.received.cs</c> beside it and fails with the diff command; <c>NEUTRAL_ACCEPT_SNAPSHOTS=1</c> rewrites the verified
/// files (never when <c>CI=true</c>); a missing snapshot fails. The <c>[GeneratedCode]</c> stamp's version is left out
/// of the comparison (a new version would otherwise rewrite every snapshot); GeneratedCodeStampTests asserts it.
/// </summary>
internal static partial class Snapshot
{
    [System.Text.RegularExpressions.GeneratedRegex("""(GeneratedCode\("Neutral\.Generators", )"[^"]*"\)""")]
    private static partial System.Text.RegularExpressions.Regex Stamp();

    /// <summary>The text with every stamp's version replaced by one placeholder.</summary>
    public static string WithoutVersion(string text) => Stamp().Replace(text, "$1\"{version}\")");

    public static void Verify(GeneratorDriverRunResult result, string[] expectedHintNames, [CallerMemberName] string test = "", [CallerFilePath] string file = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(file)!, "Snapshots");
        var generated = result.Results.SelectMany(r => r.GeneratedSources).ToArray();
        // Joined into the message, so that a failure shows every name (a collection comparison elides long ones).
        string expected = string.Join("\n", expectedHintNames.OrderBy(h => h, StringComparer.Ordinal));
        string actualNames = string.Join("\n", generated.Select(g => g.HintName).OrderBy(h => h, StringComparer.Ordinal));
        Assert.True(expected == actualNames, $"The generated files differ.\nExpected:\n{expected}\nActual:\n{actualNames}");

        bool accept = Environment.GetEnvironmentVariable("NEUTRAL_ACCEPT_SNAPSHOTS") == "1"
            && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var failures = new System.Collections.Generic.List<string>();
        foreach (GeneratedSourceResult source in generated)
        {
            string stem = Path.Combine(folder, test + "." + source.HintName[..^".cs".Length]);
            string verified = stem + ".verified.cs";
            string received = stem + ".received.cs";
            string actual = source.SourceText.ToString();
            if (accept)
            {
                File.WriteAllText(verified, actual);
                File.Delete(received);
                continue;
            }

            if (!File.Exists(verified))
            {
                File.WriteAllText(received, actual);
                failures.Add($"No snapshot {verified}. Inspect {received}, then accept with NEUTRAL_ACCEPT_SNAPSHOTS=1.");
                continue;
            }

            if (WithoutVersion(File.ReadAllText(verified)) != WithoutVersion(actual))
            {
                File.WriteAllText(received, actual);
                failures.Add($"{source.HintName} differs from its snapshot: diff -u {verified} {received}");
            }
            else
            {
                File.Delete(received);
            }
        }

        // A verified file the generator no longer produces is stale.
        foreach (string stale in Directory.EnumerateFiles(folder, test + ".*.verified.cs"))
        {
            string hint = Path.GetFileName(stale)[(test.Length + 1)..^".verified.cs".Length] + ".cs";
            if (!generated.Any(g => g.HintName == hint))
            {
                failures.Add($"Stale snapshot {stale}: the generator no longer emits {hint}.");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
