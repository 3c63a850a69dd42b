using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Testing;

namespace Neutral.Cli.Tests;

/// <summary>Calls the tool's tests run on the local provider, with their data kept for the tool to read.</summary>
public static class ToolFunctions
{
    [Remote(Retries = 0)]
    public static int Checked(int x, RemoteContext context)
    {
        context.Log.WriteLine($"checking {x}");
        return x == 3 ? throw new ArgumentException($"three is not allowed") : x * 10;
    }

    /// <summary>Fails in a way a retry could fix, with no retry allowed: the worker writes failed.1 and no status.</summary>
    [Remote(RetryOnException = true, Retries = 0)]
    public static int Flaky(int x) => throw new InvalidOperationException($"flaky {x}");

    /// <summary>Fails whatever its arguments.</summary>
    [Remote(Retries = 0)]
    public static int Refuse(byte[] data) => throw new InvalidOperationException($"refused {data.Length} bytes");

    /// <summary>Logs, waits until <paramref name="path"/> exists (a test lets it go), logs again, returns <paramref name="x"/>.</summary>
    [Remote(Retries = 0)]
    public static async Task<int> WaitFor(string path, int x, RemoteContext context)
    {
        context.Log.WriteLine($"started {x}");
        while (!File.Exists(path) && !Directory.Exists(path))
        {
            await Task.Delay(20, context.CancellationToken);
        }

        context.Log.WriteLine($"done {x}");
        return x;
    }
}

/// <summary>
/// The <c>neutral</c> tool against an app folder: what a user types and what they see, exit codes included (0 done, 1 a
/// job with failures, 2 bad input in one line).
/// </summary>
public sealed class ToolTests : IDisposable
{
    private readonly TempFolder _app = new("neutral-cli");

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(args, _app.Path, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs a 5-call job whose call 3 fails, keeping its data, as the app in the folder would.</summary>
    private async Task<string> KeptJobAsync()
    {
        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Local.Root = Path.Combine(_app.Path, ".neutral");
            o.Local.Workers = 1;
            o.Job.KeepData = true;
            o.Job.CancelOnSignal = false;
            o.Local.ForwardOutput = false;
        });
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.ToolFunctions.Checked(i)));
        await Assert.ThrowsAsync<RemoteJobException>(() => job.GetResultsAsync());
        return job.JobId;
    }

    [Fact]
    public async Task Jobs_status_logs_and_plot_read_a_kept_job_from_the_store()
    {
        string id = await KeptJobAsync();

        var (code, output, error) = await RunAsync("jobs");
        Assert.True(code == 0, error);
        Assert.Contains(id, output, StringComparison.Ordinal);
        string row = output.Split('\n').Single(l => l.Contains(id, StringComparison.Ordinal));
        Assert.Matches(@"│ 5\s+│ 4\s+│ 1\s+│ 0\s+│ 0\s+│ 0\s+│", row); // calls, succeeded, failed, running, pending, attached

        // A client attached to the job (Cloud.AttachAsync) shows in the last column while its record is fresh.
        var store = new Neutral.Storage.PrefixedObjectStore(new Neutral.Workers.Storage.FileSystemObjectStore(Path.Combine(_app.Path, ".neutral")), Cloud.InternalPrefix);
        await store.PutAsync(Neutral.Wire.StorageLayout.Attached(id, "other-client"), Neutral.Wire.WireJson.Serialize(new Neutral.Wire.LeaseRecord
        {
            ClientId = "other-client", Owner = "elsewhere/1/1", Renewed = DateTimeOffset.UtcNow, Beat = 1, Seconds = 30,
        }));
        (code, output, error) = await RunAsync("jobs");
        Assert.True(code == 0, error);
        Assert.Matches(@"│ 5\s+│ 4\s+│ 1\s+│ 0\s+│ 0\s+│ 1\s+│", output.Split('\n').Single(l => l.Contains(id, StringComparison.Ordinal)));

        (code, output, error) = await RunAsync("status", id);
        Assert.True(code == 1, error); // a job with a failed call
        Assert.Contains($"Job {id}: 5 calls, 4 succeeded, 1 failed, 0 running, 0 pending; function Neutral.Cli.Tests.ToolFunctions.Checked(", output, StringComparison.Ordinal);
        string failed = output.Split('\n').Single(l => l.Contains("failed", StringComparison.Ordinal) && l.Contains("ArgumentException", StringComparison.Ordinal));
        Assert.Contains("System.ArgumentException: three is not allowed", failed, StringComparison.Ordinal);
        Assert.Matches(@"│ 3\s+│ failed", failed);
        Assert.Contains("Cost: none on local compute (5 attempts started, ", output, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("logs", id, "3");
        Assert.True(code == 0, error);
        Assert.Contains("== call 3, attempt 1 on ", output, StringComparison.Ordinal);
        Assert.Contains("failed: System.ArgumentException: three is not allowed", output, StringComparison.Ordinal);
        Assert.Contains("checking 3", output, StringComparison.Ordinal);
        Assert.DoesNotContain("checking 2", output, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("plot", id, "-o", "t.svg");
        Assert.True(code == 0, error);
        Assert.Contains("5 of 5 calls have run", output, StringComparison.Ordinal);
        string svg = await File.ReadAllTextAsync(Path.Combine(_app.Path, "t.svg"));
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains($"Job {id}: 5 calls", svg, StringComparison.Ordinal);
        Assert.Contains("#d62728", svg, StringComparison.Ordinal); // the failed call's colour

        // The page: the same timeline, and a row per call with its state and error.
        (code, _, error) = await RunAsync("plot", id, "-o", "t.html");
        Assert.True(code == 0, error);
        string page = await File.ReadAllTextAsync(Path.Combine(_app.Path, "t.html"));
        Assert.StartsWith("<!DOCTYPE html>", page, StringComparison.Ordinal);
        Assert.Contains(svg.TrimEnd(), page, StringComparison.Ordinal);
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Count(page, "<tr class="));
        Assert.Contains("<tr class=\"failed\"><td class=\"n\">3</td><td>failed</td>", page, StringComparison.Ordinal);
        Assert.Contains("System.ArgumentException: three is not allowed", page, StringComparison.Ordinal);
        (code, _, error) = await RunAsync("plot", id, "-o", "t.png");
        Assert.Equal(2, code);
        Assert.Contains("name a .svg or .html file", error, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("clean", "--job", id);
        Assert.True(code == 0, error);
        (code, output, _) = await RunAsync("jobs");
        Assert.Contains("No jobs in local:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_whose_last_attempt_failed_with_its_client_gone_shows_as_failed_with_the_error()
    {
        string id;
        await using (Cloud cloud = Cloud.Connect(o =>
        {
            o.Local.Root = Path.Combine(_app.Path, ".neutral");
            o.Local.Isolation = "inproc";
            o.Job.KeepData = true;
            o.Job.CancelOnSignal = false;
        }))
        {
            RemoteJob<int> job = cloud.Submit([Remote.ToolFunctions.Flaky(4)]);
            await Assert.ThrowsAsync<RemoteJobException>(() => job.GetResultsAsync());
            id = job.JobId;
        }

        // The client is gone: its manifest names a process that has ended.
        var store = new Neutral.Storage.PrefixedObjectStore(
            new Neutral.Workers.Storage.FileSystemObjectStore(Path.Combine(_app.Path, ".neutral"), Neutral.Workers.Storage.FileSystemObjectStore.DefaultControlRoot(Path.Combine(_app.Path, ".neutral"))),
            Cloud.InternalPrefix);
        var manifest = Neutral.Wire.WireJson.DeserializeManifest((await store.GetAsync(Neutral.Wire.StorageLayout.Manifest(id)))!);
        await store.PutAsync(Neutral.Wire.StorageLayout.Manifest(id), Neutral.Wire.WireJson.Serialize(manifest with { Owner = Environment.MachineName + "/999999999/1" }));

        var (code, output, error) = await RunAsync("status", id);
        Assert.True(code == 1, error + output);
        Assert.Contains("1 calls, 0 succeeded, 1 failed", output, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: flaky 4", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_follow_prints_attempts_as_they_end_until_every_call_has_its_outcome()
    {
        string release = Path.Combine(_app.Path, "release");
        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Local.Root = Path.Combine(_app.Path, ".neutral");
            o.Local.Isolation = "inproc";
            o.Local.Workers = 2;
            o.Job.KeepData = true;
            o.Job.CancelOnSignal = false;
        });
        // Call 0 ends at once; call 1 waits until the test lets it go.
        RemoteJob<int> job = cloud.Submit([Remote.ToolFunctions.WaitFor(_app.Path, 0), Remote.ToolFunctions.WaitFor(release, 1)]);
        await job[0].Task;

        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var output = new LockedWriter();
        var error = new LockedWriter();
        Task<int> follow = Tool.RunAsync(["logs", job.JobId, "--follow"], _app.Path, output, error, time);
        // Each check waits for the tool's own pass over the store, then moves its clock to the next one.
        async Task UntilAsync(Func<bool> done)
        {
            for (int i = 0; i < 1000 && !done() && !follow.IsCompleted; i++)
            {
                await Task.Delay(10);
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        await UntilAsync(() => output.ToString().Contains("done 0", StringComparison.Ordinal));
        Assert.Contains("== call 0, attempt 1 on ", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("call 1", output.ToString(), StringComparison.Ordinal);
        Assert.False(follow.IsCompleted);

        await File.WriteAllTextAsync(release, "");
        Assert.Equal(1, await job[1].Task);
        await UntilAsync(() => follow.IsCompleted);
        Assert.Equal(0, await follow);
        string text = output.ToString();
        Assert.Contains("== call 1, attempt 1 on ", text, StringComparison.Ordinal);
        Assert.Contains("done 1", text, StringComparison.Ordinal);
        Assert.EndsWith("== every call has its outcome.\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        // Each attempt once, whatever the number of passes.
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(text, "== call 0, attempt 1"));
    }

    [Fact]
    public async Task Status_of_a_job_that_ended_names_its_failed_calls_kept_for_replay()
    {
        string id;
        await using (Cloud cloud = Cloud.Connect(o =>
        {
            o.Local.Root = Path.Combine(_app.Path, ".neutral");
            o.Local.Isolation = "inproc";
            o.Job.CancelOnSignal = false;
        }))
        {
            RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.ToolFunctions.Checked(i)));
            await Assert.ThrowsAsync<RemoteJobException>(() => job.GetResultsAsync());
            await job.Completion;
            id = job.JobId;
        }

        var (code, _, error) = await RunAsync("status", id);
        Assert.Equal(2, code);
        Assert.Equal($"neutral: job {id}'s data is deleted (it ended, and Job:KeepData was off), but its failed call 3 is kept: neutral replay {id} 3 runs it again.", error.TrimEnd());
    }

    [Theory]
    [InlineData("stauts", "neutral: 'stauts' is not a command. Did you mean 'status'? (neutral --help lists them)")]
    [InlineData("deplyo", "neutral: 'deplyo' is not a command. Did you mean 'deploy'? (neutral --help lists them)")]
    [InlineData("frobnicate", "neutral: 'frobnicate' is not a command. (neutral --help lists them)")]
    public async Task A_mistyped_command_is_named_with_the_nearest_one(string typed, string expected)
    {
        var (code, output, error) = await RunAsync(typed, "x");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal(expected, error.TrimEnd());
    }

    [Fact]
    public async Task A_bad_option_value_is_one_line_pointing_at_the_commands_help()
    {
        var (code, _, error) = await RunAsync("init", "--provider", "gcp");
        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("'gcp'", error, StringComparison.Ordinal);
        Assert.EndsWith("(neutral init --help says more)", error.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clean_by_age_keeps_young_jobs()
    {
        string id = await KeptJobAsync();
        var (code, output, error) = await RunAsync("clean", "--older-than", "1h");
        Assert.True(code == 0, error);
        Assert.Contains("Deleted 0 jobs older than 1h; 1 left.", output, StringComparison.Ordinal);
        // Its owner, this process, still runs: kept unless asked.
        (code, output, error) = await RunAsync("clean", "--older-than", "0s");
        Assert.True(code == 0, error);
        Assert.Contains("Deleted 0 jobs older than 0s; 1 left.", output, StringComparison.Ordinal);
        (code, output, error) = await RunAsync("clean", "--older-than", "0s", "--include-running");
        Assert.True(code == 0, error);
        Assert.Contains("Deleted 1 job older than 0s; 0 left.", output, StringComparison.Ordinal);
        (code, _, error) = await RunAsync("status", id);
        Assert.Equal(2, code);
    }

    [Fact]
    public async Task Storage_puts_lists_gets_and_removes_objects()
    {
        Directory.CreateDirectory(Path.Combine(_app.Path, ".neutral"));
        await File.WriteAllTextAsync(Path.Combine(_app.Path, "part.csv"), "a,b\n1,2\n");
        var (code, output, error) = await RunAsync("storage", "put", "inputs/part.csv", "part.csv");
        Assert.True(code == 0, error);
        Assert.Contains("Put 8 bytes at 'inputs/part.csv'.", output, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("storage", "ls", "inputs/");
        Assert.True(code == 0, error);
        Assert.Matches(@"│ inputs/part\.csv\s+│ 8\s+│", output);

        (code, output, error) = await RunAsync("storage", "get", "inputs/part.csv");
        Assert.True(code == 0, error);
        Assert.Equal("a,b\n1,2\n", output);

        // A file that cannot be written: one line, exit code 2, no stack trace.
        (code, _, error) = await RunAsync("storage", "get", "inputs/part.csv", "-o", "/proc/neutral-cannot-write-here");
        Assert.Equal(2, code);
        Assert.StartsWith("neutral: ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));

        (code, _, error) = await RunAsync("storage", "rm", "-r", "");
        Assert.Equal(2, code);
        Assert.Contains("give a prefix", error, StringComparison.Ordinal);

        (code, _, error) = await RunAsync("storage", "get", "_neutral/jobs/x");
        Assert.Equal(2, code);
        Assert.StartsWith("neutral: ", error, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("storage", "rm", "inputs/part.csv");
        Assert.True(code == 0, error);
        (code, _, error) = await RunAsync("storage", "rm", "inputs/part.csv");
        Assert.Equal(2, code);
        Assert.Equal("neutral: no object 'inputs/part.csv' in local:" + Path.Combine(_app.Path, ".neutral") + " (to delete a prefix, add --recursive).\n", error.Replace("\r", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("local", "Neutral:Compute", "local")]
    [InlineData("aws", "Neutral:Aws:Region", "us-east-1")]
    [InlineData("azure", "Neutral:Azure:Container", "neutral")]
    [InlineData("openwhisk", "Neutral:Minio:Endpoint", "minio.example.com:9000")]
    public async Task Init_writes_a_commented_file_that_config_reads_back(string provider, string key, string value)
    {
        var (code, output, error) = await RunAsync("init", "--provider", provider);
        Assert.True(code == 0, error);
        Assert.Contains($"for the {provider} provider", output, StringComparison.Ordinal);
        string file = Path.Combine(_app.Path, "neutral.json");
        Assert.Contains("// ", await File.ReadAllTextAsync(file), StringComparison.Ordinal);

        (code, output, error) = await RunAsync("config");
        Assert.True(code == 0, error);
        string[] rows = output.Split('\n').Where(l => l.Contains("│ " + key + " ", StringComparison.Ordinal)).ToArray();
        string row = Assert.Single(rows, r => true);
        Assert.Contains(value, row, StringComparison.Ordinal);
        Assert.Contains("the file " + file, row, StringComparison.Ordinal);
        Assert.Matches(@"Neutral:Job:Speculation\s+│ true\s+│ default", output);

        // A second init does not overwrite it.
        (code, _, error) = await RunAsync("init", "--provider", provider);
        Assert.Equal(2, code);
        Assert.Contains("exists: edit it, or run neutral init --force to replace it.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_masks_secrets_and_names_where_values_come_from()
    {
        await File.WriteAllTextAsync(Path.Combine(_app.Path, "neutral.json"),
            """{ "Neutral": { "Storage": "minio", "Minio": { "Endpoint": "127.0.0.1:9000", "Bucket": "b", "AccessKey": "ak-visible-nowhere", "SecretKey": "s3cr3t-value" } } }""");
        var (code, output, error) = await RunAsync("config");
        Assert.True(code == 0, error);
        Assert.DoesNotContain("s3cr3t-value", output, StringComparison.Ordinal);
        Assert.DoesNotContain("ak-visible-nowhere", output, StringComparison.Ordinal);
        Assert.Matches(@"Neutral:Minio:SecretKey\s+│ \(hidden, 12 characters\)", output);
        Assert.Matches(@"Neutral:Minio:Endpoint\s+│ 127\.0\.0\.1:9000\s+│ the file ", output);
        Assert.Matches(@"Neutral:Minio:Region\s+│ \(not set\)", output);
    }

    [Theory]
    [InlineData("""{ "Neutral": { "Compute": "gcp" } }""", "neutral: Configuration key 'Neutral:Compute' has the value 'gcp'")]
    [InlineData("""{ "Neutral": { "Local": { "Wokers": 3 } } }""", "Did you mean 'Neutral:Local:Workers'?")]
    [InlineData("""{ "Neutral": { "Compute": "local", """, "neutral: Configuration file '")]
    public async Task Bad_configuration_is_one_line_and_exit_code_2(string json, string expected)
    {
        await File.WriteAllTextAsync(Path.Combine(_app.Path, "neutral.json"), json);
        var (code, _, error) = await RunAsync("jobs");
        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "status", "20260101-000000-0000000000" }, "neutral: no job '20260101-000000-0000000000' in local:")]
    [InlineData(new[] { "status", "../etc" }, "neutral: '../etc' is not a job id")]
    [InlineData(new[] { "frobnicate" }, "neutral: ")]
    [InlineData(new[] { "clean", "--older-than", "soon" }, "neutral: 'soon' is not a duration")]
    public async Task Bad_input_is_one_line_and_exit_code_2(string[] args, string expected)
    {
        Directory.CreateDirectory(Path.Combine(_app.Path, ".neutral"));
        var (code, _, error) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Without_a_store_here_it_says_where_it_looked()
    {
        var (code, _, error) = await RunAsync("jobs");
        Assert.Equal(2, code);
        Assert.Contains($"there is no local store at {Path.Combine(_app.Path, ".neutral")} (Neutral:Local:Root, default .neutral)", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_app.Path, ".neutral")), "the tool created a store");
    }

    public void Dispose() => _app.Dispose();
}

/// <summary>A <see cref="StringWriter"/> that the tool may write from one thread while the test reads it from another.</summary>
internal sealed class LockedWriter : StringWriter
{
    private readonly System.Threading.Lock _lock = new();

    public override void Write(char value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            base.Write(buffer, index, count);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_lock)
        {
            base.WriteLine(value);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return base.ToString();
        }
    }
}
