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

    /// <summary>
    /// Renders the timeline as a standalone SVG document: a legend, one bar per call (light from invoke to worker start
    /// and from worker end to the status seen, dark while it ran, red when it failed) with call numbers on the left,
    /// and the number of calls running over time, both over one time axis with ticks.
    /// </summary>
    public string ToSvg(int width = 900)
    {
        var bars = Calls.Select((c, i) => (Index: i, Start: c.Invoked ?? c.Submitted, WorkerStart: c.WorkerStart, WorkerEnd: c.WorkerEnd, End: c.ResultFetched ?? c.StatusSeen ?? c.WorkerEnd, State: States[i]))
            .Where(b => b.End is not null)
            .ToArray();
        const int left = 50, top = 48, barHeight = 3, gap = 1, chartGap = 46, concurrencyHeight = 120;
        const string Waiting = "#aec7e8", Running = "#1f77b4", Failed = "#d62728";
        int rowsHeight = Math.Max(1, Calls.Count) * (barHeight + gap);
        int height = top + rowsHeight + chartGap + concurrencyHeight + 44;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"18\" font-size=\"13\">Job {WebUtility.HtmlEncode(JobId)}: {Calls.Count} calls</text>\n");
        if (bars.Length == 0)
        {
            svg.Append("</svg>\n");
            return svg.ToString();
        }

        // The legend: what a bar's parts mean.
        int legendX = left;
        foreach (var (color, label) in new[] { (Waiting, "queued (invoke to worker start), then until the status was seen"), (Running, "running on a worker"), (Failed, "failed") })
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"27\" width=\"14\" height=\"8\" fill=\"{color}\"/><text x=\"{legendX + 18}\" y=\"35\">{label}</text>\n");
            legendX += 18 + (int)(label.Length * 5.6) + 16;
        }

        DateTimeOffset t0 = Calls.Min(c => c.Submitted);
        DateTimeOffset t1 = bars.Max(b => b.End!.Value);
        double span = Math.Max((t1 - t0).TotalSeconds, 1e-3);
        int plotWidth = width - left - 20;
        double X(DateTimeOffset t) => left + ((t - t0).TotalSeconds / span * plotWidth);
        double baseY = top + rowsHeight + chartGap + concurrencyHeight;

        // Time ticks (1, 2 or 5 times a power of ten, about eight of them), with faint lines through both charts.
        double step = NiceStep(span / 8);
        for (double t = 0; t <= span + (step / 1000); t += step)
        {
            double x = left + (t / span * plotWidth);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.##}\" y1=\"{top:0.##}\" x2=\"{x:0.##}\" y2=\"{baseY + 4:0.##}\" stroke=\"#ddd\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.##}\" y=\"{baseY + 17:0.##}\" text-anchor=\"middle\">{FormatSeconds(t, step)}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + plotWidth}\" y=\"{baseY + 32:0.##}\" text-anchor=\"end\">seconds since the job was submitted</text>\n");

        // Call numbers every so often: a round step leaving at least 12 pixels between labels.
        int every = (int)NiceStep(Math.Max(1, 12.0 / (barHeight + gap)));
        for (int call = 0; call < Calls.Count; call += every)
        {
            double y = top + (call * (barHeight + gap)) + barHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y:0.##}\" text-anchor=\"end\" font-size=\"9\">{call}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{top - 3}\" text-anchor=\"end\" font-size=\"9\">call</text>\n");
        foreach (var bar in bars)
        {
            double y = top + (bar.Index * (barHeight + gap));
            string color = bar.State == RemoteCallState.Failed ? Failed : Waiting;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(bar.Start):0.##}\" y=\"{y:0.##}\" width=\"{Math.Max(0.5, X(bar.End!.Value) - X(bar.Start)):0.##}\" height=\"{barHeight}\" fill=\"{color}\"/>\n");
            if (bar.WorkerStart is { } ws && bar.WorkerEnd is { } we)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(ws):0.##}\" y=\"{y:0.##}\" width=\"{Math.Max(0.5, X(we) - X(ws)):0.##}\" height=\"{barHeight}\" fill=\"{(bar.State == RemoteCallState.Failed ? Failed : Running)}\"/>\n");
            }
        }

        // Concurrency: calls whose worker run covers each instant.
        var edges = bars.Where(b => b.WorkerStart is not null && b.WorkerEnd is not null)
            .SelectMany(b => new[] { (T: b.WorkerStart!.Value, D: 1), (T: b.WorkerEnd!.Value, D: -1) })
            .OrderBy(e => e.T).ThenBy(e => e.D).ToArray();
        int level = 0, peak = Math.Max(1, PeakConcurrency(edges));
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
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{baseY - concurrencyHeight + 4:0.##}\" text-anchor=\"end\" font-size=\"9\">{peak}</text><text x=\"{left - 6}\" y=\"{baseY:0.##}\" text-anchor=\"end\" font-size=\"9\">0</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{baseY:0.##}\" x2=\"{left + plotWidth}\" y2=\"{baseY:0.##}\" stroke=\"#444\"/>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>The round step (1, 2 or 5 times a power of ten) nearest above <paramref name="rough"/>.</summary>
    internal static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double scaled = rough / power;
        return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
    }

    /// <summary>A tick's label: as many decimals as the step needs.</summary>
    private static string FormatSeconds(double seconds, double step)
    {
        int decimals = Math.Clamp((int)Math.Ceiling(-Math.Log10(step)), 0, 6);
        return seconds.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
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
