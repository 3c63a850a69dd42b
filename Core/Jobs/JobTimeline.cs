using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;

namespace Neutral;

/// <summary>
/// Every call's timestamps: one bar per call from invoke to end (the worker's run drawn darker), and the number of
/// calls running over time, as in Lithops' plots.
/// </summary>
public sealed class JobTimeline
{
    internal JobTimeline(string jobId, IReadOnlyList<CallStats> calls, IReadOnlyList<RemoteCallState> states)
    {
        JobId = jobId;
        Calls = calls;
        States = states;
    }

    /// <summary>The job.</summary>
    public string JobId { get; }

    /// <summary>Each call's statistics, in call order.</summary>
    public IReadOnlyList<CallStats> Calls { get; }

    /// <summary>Each call's state.</summary>
    public IReadOnlyList<RemoteCallState> States { get; }

    /// <summary>Renders the timeline as a standalone SVG document.</summary>
    public string ToSvg(int width = 900)
    {
        var bars = Calls.Select((c, i) => (Index: i, Start: c.Invoked ?? c.Submitted, WorkerStart: c.WorkerStart, WorkerEnd: c.WorkerEnd, End: c.ResultFetched ?? c.StatusSeen ?? c.WorkerEnd, State: States[i]))
            .Where(b => b.End is not null)
            .ToArray();
        const int left = 50, top = 30, barHeight = 3, gap = 1, chartGap = 40, concurrencyHeight = 120;
        int rowsHeight = Math.Max(1, Calls.Count) * (barHeight + gap);
        int height = top + rowsHeight + chartGap + concurrencyHeight + 40;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"18\" font-size=\"13\">Job {WebUtility.HtmlEncode(JobId)}: {Calls.Count} calls</text>\n");
        if (bars.Length == 0)
        {
            svg.Append("</svg>\n");
            return svg.ToString();
        }

        DateTimeOffset t0 = Calls.Min(c => c.Submitted);
        DateTimeOffset t1 = bars.Max(b => b.End!.Value);
        double span = Math.Max((t1 - t0).TotalSeconds, 1e-3);
        int plotWidth = width - left - 20;
        double X(DateTimeOffset t) => left + ((t - t0).TotalSeconds / span * plotWidth);

        foreach (var bar in bars)
        {
            double y = top + (bar.Index * (barHeight + gap));
            string color = bar.State == RemoteCallState.Failed ? "#d62728" : "#aec7e8";
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(bar.Start):0.##}\" y=\"{y:0.##}\" width=\"{Math.Max(0.5, X(bar.End!.Value) - X(bar.Start)):0.##}\" height=\"{barHeight}\" fill=\"{color}\"/>\n");
            if (bar.WorkerStart is { } ws && bar.WorkerEnd is { } we)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(ws):0.##}\" y=\"{y:0.##}\" width=\"{Math.Max(0.5, X(we) - X(ws)):0.##}\" height=\"{barHeight}\" fill=\"#1f77b4\"/>\n");
            }
        }

        // Concurrency: calls whose worker run covers each instant.
        var edges = bars.Where(b => b.WorkerStart is not null && b.WorkerEnd is not null)
            .SelectMany(b => new[] { (T: b.WorkerStart!.Value, D: 1), (T: b.WorkerEnd!.Value, D: -1) })
            .OrderBy(e => e.T).ThenBy(e => e.D).ToArray();
        int level = 0, peak = Math.Max(1, PeakConcurrency(edges));
        double baseY = top + rowsHeight + chartGap + concurrencyHeight;
        var points = new StringBuilder();
        points.Append(CultureInfo.InvariantCulture, $"{left},{baseY:0.##} ");
        foreach (var (t, d) in edges)
        {
            double x = X(t);
            points.Append(CultureInfo.InvariantCulture, $"{x:0.##},{baseY - (level * concurrencyHeight / (double)peak):0.##} ");
            level += d;
            points.Append(CultureInfo.InvariantCulture, $"{x:0.##},{baseY - (level * concurrencyHeight / (double)peak):0.##} ");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"1.5\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{baseY - concurrencyHeight - 6:0.##}\">calls running (peak {peak})</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{baseY:0.##}\" x2=\"{left + plotWidth}\" y2=\"{baseY:0.##}\" stroke=\"#444\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{baseY + 16:0.##}\">0 s</text><text x=\"{left + plotWidth - 40}\" y=\"{baseY + 16:0.##}\">{span:0.###} s</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static int PeakConcurrency((DateTimeOffset T, int D)[] edges)
    {
        int level = 0, peak = 0;
        foreach (var edge in edges)
        {
            level += edge.D;
            peak = Math.Max(peak, level);
        }

        return peak;
    }
}
