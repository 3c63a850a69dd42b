using System;
using System.Linq;
using System.Text.RegularExpressions;
using Neutral.Providers;

namespace Neutral.Testing;

/// <summary>Reading a deployment's dry run (<see cref="DeploymentPlan"/>) back, to compare it with what the deployment then sent.</summary>
public static partial class PlannedRequests
{
    [GeneratedRegex(@"\(the package: [^)]*\)")]
    private static partial Regex Package();

    /// <summary>The indented body under the request line whose purpose starts with <paramref name="purpose"/>, as one JSON text.</summary>
    public static string Body(string plan, string purpose)
    {
        ArgumentNullException.ThrowIfNull(plan);
        string[] lines = plan.ReplaceLineEndings("\n").Split('\n');
        int at = Array.FindIndex(lines, l => l.Contains("  # " + purpose, StringComparison.Ordinal));
        if (at < 0)
        {
            throw new InvalidOperationException($"no request for '{purpose}' in the plan:\n{plan}");
        }

        return string.Join('\n', lines.Skip(at + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal)).Select(l => l[4..]));
    }

    /// <summary>A body sent, as the plan shows it (<see cref="DeploymentPlan.Show"/>), the package's size and digest left out on both sides.</summary>
    public static string Shown(string body) => WithoutPackage(DeploymentPlan.Show(body));

    /// <summary>A planned body with the package's size and digest left out (a publish writes new timestamps into the zip).</summary>
    public static string WithoutPackage(string body) => Package().Replace(body, "(the package)");
}
