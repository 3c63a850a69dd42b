using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Storage;
using Neutral.Wire;
using Spectre.Console;

namespace Neutral.Cli;

/// <summary><c>neutral jobs|status|logs|plot|clean</c>: the jobs in the configured store, read from storage alone.</summary>
internal static class JobCommands
{
    public static IEnumerable<Command> Create(ToolContext context)
    {
        yield return Jobs(context);
        yield return Status(context);
        yield return Logs(context);
        yield return Plot(context);
        yield return Clean(context);
    }

    private static Command Jobs(ToolContext context)
    {
        Command command = new("jobs", "Lists the jobs in the store (running, kept with Job:KeepData, or left by a client that died) with their owner, age and calls. Example: neutral jobs");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            IReadOnlyList<string> ids = await JobView.ListAsync(store.Internal, cancellationToken);
            if (ids.Count == 0)
            {
                await context.Output.WriteLineAsync($"No jobs in {store.Location}.");
                return 0;
            }

            var table = new Table().AddColumns("job", "owner", "age", "calls", "succeeded", "failed", "running", "pending", "attached");
            // retrying counts as running: an attempt failed and the client launches the next.
            DateTimeOffset now = DateTimeOffset.UtcNow;
            foreach (string id in ids)
            {
                if (await JobView.ReadAsync(store.Internal, id, failures: false, cancellationToken) is not { } job)
                {
                    continue;
                }

                // The client that drives the job: the newest lease's holder (a client that took it over), else its submitter.
                var (generation, lease) = await JobLease.ReadNewestAsync(store.Internal, id, cancellationToken);
                string? driver = lease?.Owner ?? job.Manifest?.Owner;
                string owner = driver is { } o
                    ? o + (JobCleanup.IsAlive(o) ? " (running)" : JobCleanup.EndedHere(o) ? " (gone)" : "") + (generation > 0 ? $" (took over: lease {generation})" : "")
                    : "(no manifest)";
                table.AddRow(id, Markup.Escape(owner), job.Created is { } created ? Age(now - created) : "?", Number(job.Calls.Count),
                    Number(job.Count("succeeded")), Number(job.Count("failed")), Number(job.Count("running") + job.Count("retrying")), Number(job.Count("pending")),
                    Number(await JobLease.CountAttachedAsync(store.Internal, id, now, cancellationToken: cancellationToken)));
            }

            context.Console().Write(table);
            return 0;
        });
        return command;
    }

    private static Argument<string> JobArgument() => new("job") { Description = "The job's id, as neutral jobs lists it." };

    private static async Task<JobView> RequireAsync(OpenStore store, string id, bool failures, CancellationToken cancellationToken)
    {
        if (await JobView.ReadAsync(store.Internal, id, failures, cancellationToken) is { } view)
        {
            return view;
        }

        IReadOnlyList<int> kept = await JobView.KeptCallsAsync(store.Internal, id, cancellationToken);
        throw new ToolException(kept.Count > 0
            ? $"job {id}'s data is deleted (it ended, and Job:KeepData was off), but {(kept.Count == 1 ? "its failed call " + kept[0] + " is" : "its failed calls " + string.Join(", ", kept) + " are")} kept: neutral replay {id} {kept[0]} runs it again."
            : $"no job '{id}' in {store.Location} (neutral jobs lists those there; a job's data is deleted once its results are read, unless Job:KeepData is true).");
    }

    private static Command Status(ToolContext context)
    {
        Argument<string> job = JobArgument();
        Command command = new("status", "Shows each call of a job: its state, attempts, run time, worker host and error, and the cost so far. Example: neutral status 20261206-051430-b2d4104b82") { job };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            JobView view = await RequireAsync(store, parsed.GetValue(job)!, failures: false, cancellationToken);
            await context.Output.WriteLineAsync(
                $"Job {view.Id}: {view.Calls.Count} calls, {view.Count("succeeded")} succeeded, {view.Count("failed")} failed, {view.Count("running") + view.Count("retrying")} running, {view.Count("pending")} pending"
                + (view.Manifest is { } m ? $"; function {m.FunctionId}" : ""));
            var table = new Table().AddColumns("call", "state", "attempts", "run time", "host", "error");
            foreach (CallView call in view.Calls)
            {
                StatusRecord? status = call.Status;
                string time = status is null ? "" : Seconds(status.WorkerEnd - status.WorkerStart);
                string error = call.Error is { } e ? $"{e.Type}: {FirstLine(e.Message)}" : "";
                table.AddRow(Number(call.Index), call.State, Number(Math.Max(call.Attempts, status?.Attempt ?? 0)), time, Markup.Escape(status?.Host ?? call.LastFailure?.Host ?? ""), Markup.Escape(error));
            }

            context.Console().Write(table);
            await context.Output.WriteLineAsync(await context.CostLineAsync(store, view, cancellationToken));
            return view.Count("failed") > 0 ? 1 : 0;
        });
        return command;
    }

    private static Command Logs(ToolContext context)
    {
        Argument<string> job = JobArgument();
        Argument<int?> call = new("call") { Description = "One call's index (all calls when left out).", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> follow = new("--follow", "-f") { Description = "Keep printing attempts as they end, until every call has its outcome or the job's data is deleted." };
        Command command = new("logs", "Prints what calls wrote to their console and RemoteContext.Log, attempt by attempt. Example: neutral logs 20261206-051430-b2d4104b82 17 --follow") { job, call, follow };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            string id = parsed.GetValue(job)!;
            JobView view = await RequireAsync(store, id, failures: true, cancellationToken);
            int? only = parsed.GetValue(call);
            if (only is { } index && (index < 0 || index >= view.Calls.Count))
            {
                throw new ToolException($"job {view.Id} has calls 0 to {view.Calls.Count - 1}, not {index}.");
            }

            var printed = new HashSet<(int Call, int Attempt)>();
            bool following = parsed.GetValue(follow);
            TimeProvider time = context.Time ?? TimeProvider.System;
            while (true)
            {
                IEnumerable<CallView> calls = view.Calls.Where(c => only is null || c.Index == only).ToArray();
                foreach (CallView c in calls)
                {
                    IEnumerable<StatusRecord> records = c.FailedAttempts.Concat(c.Status is { } s && c.FailedAttempts.All(f => f.Attempt != s.Attempt) ? [s] : []);
                    foreach (StatusRecord record in records.OrderBy(r => r.Attempt).Where(r => printed.Add((c.Index, r.Attempt))))
                    {
                        string outcome = record.Succeeded ? "succeeded" : $"failed: {record.Error?.Type}: {FirstLine(record.Error?.Message ?? "")}";
                        await context.Output.WriteLineAsync($"== call {c.Index}, attempt {record.Attempt} on {record.Host ?? "?"}: {outcome}");
                        if (!string.IsNullOrEmpty(record.Log))
                        {
                            await context.Output.WriteAsync(record.Log.EndsWith('\n') ? record.Log : record.Log + "\n");
                        }
                    }

                    if (c.Status is null && !following)
                    {
                        await context.Output.WriteLineAsync($"== call {c.Index}: {c.State} (its output is stored with its outcome)");
                    }
                }

                if (!following)
                {
                    return 0;
                }

                if (calls.All(c => c.State is "succeeded" or "failed"))
                {
                    await context.Output.WriteLineAsync($"== every call{(only is null ? "" : " followed")} has its outcome.");
                    return 0;
                }

                if (view.Manifest?.Owner is { } owner && JobCleanup.EndedHere(owner))
                {
                    // Kept data of a client that ended (cancelled, killed): nobody launches the calls left.
                    await context.Output.WriteLineAsync($"== the job's client ({owner}) has ended: the calls without an outcome will not get one.");
                    return 0;
                }

                // Attempts end in their own time: the store is read again every second.
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
                if (await JobView.ReadAsync(store.Internal, id, failures: true, cancellationToken) is not { } next)
                {
                    await context.Output.WriteLineAsync($"== job {id} ended and its data was deleted (run with Job:KeepData=true to keep it).");
                    return 0;
                }

                view = next;
            }
        });
        return command;
    }

    private static Command Plot(ToolContext context)
    {
        Argument<string> job = JobArgument();
        Option<string> output = new("--output", "-o") { Description = "The file to write: .svg (the timeline) or .html (a page with the timeline and each call's state, time, host and error).", DefaultValueFactory = _ => "timeline.svg" };
        Command command = new("plot", "Draws a job's timeline (one bar per call: queued, running; and calls running over time) as SVG or an HTML page. Example: neutral plot 20261206-051430-b2d4104b82 -o timeline.html") { job, output };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            JobView view = await RequireAsync(store, parsed.GetValue(job)!, failures: false, cancellationToken);
            string path = Path.GetFullPath(Path.Combine(context.Directory, parsed.GetValue(output)!));
            bool html = path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".htm", StringComparison.OrdinalIgnoreCase);
            if (!html && !path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            {
                throw new ToolException($"{path}: the timeline is written as SVG or as an HTML page; name a .svg or .html file.");
            }

            // From storage alone: submitted (the manifest), the worker's start and end, the status (written at the end).
            DateTimeOffset submitted = view.Created ?? view.Calls.Where(c => c.Status is not null).Select(c => c.Status!.WorkerStart).DefaultIfEmpty(DateTimeOffset.UtcNow).Min();
            var stats = view.Calls.Select(c => new CallStats
            {
                Submitted = submitted,
                WorkerStart = c.Status?.WorkerStart,
                WorkerEnd = c.Status?.WorkerEnd,
                StatusSeen = c.Status?.WorkerEnd,
                Attempt = c.Status?.Attempt ?? 0,
                WorkerHost = c.Status?.Host,
            }).ToArray();
            var states = view.Calls.Select(c => c.State switch
            {
                "succeeded" => RemoteCallState.Succeeded,
                "failed" => RemoteCallState.Failed,
                "running" or "retrying" => RemoteCallState.Running,
                _ => RemoteCallState.Pending,
            }).ToArray();
            string svg = new JobTimeline(view.Id, stats, states).ToSvg();
            await File.WriteAllTextAsync(path, html ? TimelinePage.Html(view, svg) : svg, cancellationToken);
            await context.Output.WriteLineAsync($"Wrote {path}: {stats.Count(s => s.WorkerEnd is not null)} of {stats.Length} calls have run.");
            return 0;
        });
        return command;
    }

    private static Command Clean(ToolContext context)
    {
        Option<string?> job = new("--job") { Description = "Delete this job only." };
        Option<string?> olderThan = new("--older-than") { Description = "Delete jobs older than this (30m, 6h, 2d); default 24h." };
        Option<bool> all = new("--include-running") { Description = "Also delete jobs whose owner process still runs on this host." };
        Command command = new("clean", "Deletes jobs left in the store: by default those older than 24 h whose client is not running here. Example: neutral clean --older-than 6h") { job, olderThan, all };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            if (parsed.GetValue(job) is { } only)
            {
                _ = await RequireAsync(store, only, failures: false, cancellationToken);
                await store.Internal.DeletePrefixAsync(StorageLayout.Job(only), cancellationToken);
                // Its failed calls kept for replay go too.
                await store.Internal.DeletePrefixAsync(StorageLayout.Kept(only), cancellationToken);
                await context.Output.WriteLineAsync($"Deleted job {only}.");
                return 0;
            }

            TimeSpan age = Duration(parsed.GetValue(olderThan) ?? "24h");
            DateTimeOffset cutoff = DateTimeOffset.UtcNow - age;
            int deleted = 0, kept = 0;
            foreach (string id in await JobView.ListAsync(store.Internal, cancellationToken))
            {
                JobManifest? manifest = await store.Internal.GetAsync(StorageLayout.Manifest(id), cancellationToken) is { } bytes ? TryManifest(bytes) : null;
                bool running = manifest?.Owner is { } owner && JobCleanup.IsAlive(owner);
                DateTimeOffset? created = manifest?.Created is { } c && c != default ? c : JobCleanup.CreatedOf(id);
                if (created is { } at && at < cutoff && (!running || parsed.GetValue(all)))
                {
                    await store.Internal.DeletePrefixAsync(StorageLayout.Job(id), cancellationToken);
                    deleted++;
                }
                else
                {
                    kept++;
                }
            }

            await context.Output.WriteLineAsync($"Deleted {deleted} job{(deleted == 1 ? "" : "s")} older than {parsed.GetValue(olderThan) ?? "24h"}; {kept} left.");
            return 0;
        });
        return command;
    }

    private static JobManifest? TryManifest(byte[] bytes)
    {
        try
        {
            return WireJson.DeserializeManifest(bytes);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>30s, 30m, 6h, 2d.</summary>
    internal static TimeSpan Duration(string text)
    {
        if (text.Length >= 2 && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0 && value <= 100_000)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(value);
                case 'm': return TimeSpan.FromMinutes(value);
                case 'h': return TimeSpan.FromHours(value);
                case 'd': return TimeSpan.FromDays(value);
            }
        }

        throw new ToolException($"'{text}' is not a duration: give a number and a unit, as 30m, 6h or 2d.");
    }

    private static string Age(TimeSpan age) =>
        age.TotalMinutes < 1 ? $"{Math.Max(0, age.TotalSeconds):0} s" : age.TotalHours < 1 ? $"{age.TotalMinutes:0} min" : age.TotalDays < 2 ? $"{age.TotalHours:0.#} h" : $"{age.TotalDays:0.#} d";

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd('\r');
}
