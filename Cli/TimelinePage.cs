using System;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;

namespace Neutral.Cli;

/// <summary><c>neutral plot -o timeline.html</c>: one self-contained page, the timeline's SVG and a row per call.</summary>
internal static class TimelinePage
{
    public static string Html(JobView view, string svg)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Neutral job ").Append(E(view.Id)).Append("</title>\n")
            .Append("<style>body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}")
            .Append("td.n{text-align:right}tr.failed td{color:#a00}</style>\n</head>\n<body>\n")
            .Append("<h1>Job ").Append(E(view.Id)).Append("</h1>\n<p>")
            .Append(string.Create(CultureInfo.InvariantCulture, $"{view.Calls.Count} calls: {view.Count("succeeded")} succeeded, {view.Count("failed")} failed, "))
            .Append(string.Create(CultureInfo.InvariantCulture, $"{view.Count("running") + view.Count("retrying")} running, {view.Count("pending")} pending"))
            .Append(view.Manifest is { } m ? "; function <code>" + E(m.FunctionId) + "</code>" : "")
            .Append(view.Created is { } created ? "; submitted " + created.ToString("u", CultureInfo.InvariantCulture) : "")
            .Append(".</p>\n")
            .Append(svg).Append('\n')
            .Append("<table>\n<tr><th>call</th><th>state</th><th>attempts</th><th>run time</th><th>host</th><th>error</th></tr>\n");
        foreach (CallView call in view.Calls)
        {
            string time = call.Status is { } s ? (s.WorkerEnd - s.WorkerStart).TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s" : "";
            string error = call.Error is { } e ? e.Type + ": " + e.Message.Split('\n', 2)[0] : "";
            html.Append("<tr class=\"").Append(call.State).Append("\"><td class=\"n\">").Append(call.Index.ToString(CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(call.State)
                .Append("</td><td class=\"n\">").Append(Math.Max(call.Attempts, call.Status?.Attempt ?? 0).ToString(CultureInfo.InvariantCulture))
                .Append("</td><td class=\"n\">").Append(time)
                .Append("</td><td>").Append(E(call.Status?.Host ?? call.LastFailure?.Host))
                .Append("</td><td>").Append(E(error)).Append("</td></tr>\n");
        }

        return html.Append("</table>\n</body>\n</html>\n").ToString();
    }
}
