using System;
using System.Collections.Generic;

namespace Neutral;

/// <summary>
/// Every key the core reads under the <c>Neutral</c> section, with its type, range and property: reading
/// (<see cref="NeutralConfiguration.Read"/>), checking (<see cref="NeutralConfiguration.Validate"/>) and the strict
/// key check all come from this table. A new setting is one line here, plus its property and its row in the README.
/// </summary>
internal static class CoreSettings
{
    private const int Day = 24 * 3600;

    /// <summary>The settings, in the README's order.</summary>
    public static readonly IReadOnlyList<Setting> All =
    [
        Setting.Name("Compute", o => o.Compute, (o, v) => o.Compute = v,
            (o, v) => string.IsNullOrWhiteSpace(v) ? "it must name a compute provider: " + string.Join(", ", o.Providers.ComputeNames) + "." : null),
        Setting.Name("Storage", o => o.Storage, (o, v) => o.Storage = v,
            (o, v) => v is not null && string.IsNullOrWhiteSpace(v) ? "it must name a store (" + string.Join(", ", o.Providers.StorageNames) + "), or be left out to follow Compute." : null),
        Setting.Int("Job:Retries", 0, 100, o => o.Job.Retries, (o, v) => o.Job.Retries = v),
        Setting.Int("Job:TimeoutSeconds", 1, 7 * Day, o => o.Job.TimeoutSeconds, (o, v) => o.Job.TimeoutSeconds = v),
        Setting.Bool("Job:Speculation", o => o.Job.Speculation, (o, v) => o.Job.Speculation = v),
        Setting.Bool("Job:KeepData", o => o.Job.KeepData, (o, v) => o.Job.KeepData = v),
        Setting.Int("Job:StartTimeoutSeconds", 1, 7 * Day, o => o.Job.StartTimeoutSeconds, (o, v) => o.Job.StartTimeoutSeconds = v),
        Setting.Int("Job:InvokeConcurrency", 1, 10_000, o => o.Job.InvokeConcurrency, (o, v) => o.Job.InvokeConcurrency = v),
        Setting.IntOrWord("Job:CallsPerInvocation", 1, JobOptions.MaxCallsPerInvocation, "auto", JobOptions.AutomaticCallsPerInvocation, o => o.Job.CallsPerInvocation, (o, v) => o.Job.CallsPerInvocation = v),
        Setting.Name("Job:InvokeFrom", o => o.Job.InvokeFrom, (o, v) => o.Job.InvokeFrom = v,
            (_, v) => v is "client" or "cloud" ? null : "allowed values are client (this process invokes every attempt, the default) and cloud (launcher calls invoke them from inside the platform)."),
        Setting.Int("Job:StoreRetrySeconds", 0, Day, o => o.Job.StoreRetrySeconds, (o, v) => o.Job.StoreRetrySeconds = v),
        Setting.Number("Job:SweepAfterHours", 0, 365 * 24, o => o.Job.SweepAfterHours, (o, v) => o.Job.SweepAfterHours = v),
        Setting.Int("Job:LeaseSeconds", 3, Day, o => o.Job.LeaseSeconds, (o, v) => o.Job.LeaseSeconds = v),
        Setting.Number("Job:AttachMinutes", 0, 7 * 24 * 60, o => o.Job.AttachMinutes, (o, v) => o.Job.AttachMinutes = v),
        Setting.Number("Job:KeepFailedHours", 0, 365 * 24, o => o.Job.KeepFailedHours, (o, v) => o.Job.KeepFailedHours = v),
        Setting.Bool("Job:CancelOnSignal", o => o.Job.CancelOnSignal, (o, v) => o.Job.CancelOnSignal = v),
        Setting.Int("Local:Workers", 0, 4096, o => o.Local.Workers, (o, v) => o.Local.Workers = v),
        Setting.Name("Local:Isolation", o => o.Local.Isolation, (o, v) => o.Local.Isolation = v,
            (_, v) => v is "process" or "inproc" ? null : "allowed values are process (worker processes, the default) and inproc (threads in this process, for debugging)."),
        Setting.Text("Local:Root", o => o.Local.Root, (o, v) => o.Local.Root = v,
            (_, v) => string.IsNullOrWhiteSpace(v) ? "it must be a folder path (default .neutral)." : null),
        Setting.Name("Local:JobData", o => o.Local.JobData, (o, v) => o.Local.JobData = v,
            (_, v) => v is "memory" or "disk" ? null : "allowed values are memory (jobs' per-call control objects under /dev/shm where it exists, the default) and disk (everything in Local:Root)."),
        Setting.Text("Local:WorkerCommand", o => o.Local.WorkerCommand, (o, v) => o.Local.WorkerCommand = v),
        Setting.Bool("Local:ForwardOutput", o => o.Local.ForwardOutput, (o, v) => o.Local.ForwardOutput = v),
    ];

    /// <summary>Whether <paramref name="name"/> is one of the core's keys or sections right under <c>Neutral</c> (<c>Compute</c>, <c>Job</c>, ...).</summary>
    public static bool IsTopLevel(string name)
    {
        foreach (Setting setting in All)
        {
            int colon = setting.Key.IndexOf(':', StringComparison.Ordinal);
            if (string.Equals(colon < 0 ? setting.Key : setting.Key[..colon], name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
