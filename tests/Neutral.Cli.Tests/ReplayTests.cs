using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Cli.Tests;

/// <summary>
/// <c>neutral replay</c>: a job's failed call is kept after the job's data is deleted (<c>Job:KeepFailedHours</c>), and
/// runs again in the application's own process (here this test assembly, started as the app would be), reproducing
/// the exception with its stack trace; a build whose signature differs is refused.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReplayTests : IDisposable
{
    private readonly TempFolder _app = new("neutral-replay");

    public void Dispose() => _app.Dispose();

    private string Root => Path.Combine(_app.Path, ".neutral");

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(args, _app.Path, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs 5 calls of which call 3 throws, with the job's data deleted at the end as usual.</summary>
    private async Task<string> FailedJobAsync(double keepFailedHours = 24)
    {
        await using Cloud cloud = Cloud.Connect(o =>
        {
            o.Local.Root = Root;
            o.Local.Workers = 1;
            o.Local.ForwardOutput = false;
            o.Job.CancelOnSignal = false;
            o.Job.KeepFailedHours = keepFailedHours;
        });
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 5).Select(i => Remote.ToolFunctions.Checked(i)));
        await Assert.ThrowsAsync<RemoteJobException>(() => job.GetResultsAsync());
        await job.Completion;
        return job.JobId;
    }

    private string App() => TestApp.Script(_app.Path, "Neutral.Cli.Tests;Neutral.Testing.Support");

    [Fact]
    public async Task A_failed_call_outlives_its_job_and_replays_with_its_exception_and_stack_trace()
    {
        string id = await FailedJobAsync();
        // The job's data is gone; the failed call alone is kept, with its arguments and error.
        Assert.False(Directory.Exists(Path.Combine(Root, "_neutral", "jobs", id)));
        Assert.Equal(["3.json"], Directory.GetFiles(Path.Combine(Root, "_neutral", "kept", id)).Select(Path.GetFileName));
        KeptCall kept = WireJson.DeserializeKept(File.ReadAllBytes(Path.Combine(Root, "_neutral", "kept", id, "3.json")));
        Assert.Equal("System.ArgumentException", kept.Error.Type);
        Assert.Equal(3, kept.Call.CallIndex);
        Assert.NotNull(kept.Call.InlineInput);

        var (code, output, error) = await RunAsync("replay", id, "3", "--executable", App());
        Assert.True(code == 1, output + error);
        Assert.Contains($"Call 3 of job {id} failed at ", output, StringComparison.Ordinal);
        Assert.Contains("with System.ArgumentException: three is not allowed", output, StringComparison.Ordinal);
        Assert.Matches($@"Replaying call 3 of job {id} in process \d+: Neutral\.Cli\.Tests\.ToolFunctions\.Checked\(int", output);
        // What the method wrote to its log, then its exception thrown again in this process, with this run's stack trace.
        Assert.Contains("checking 3", output, StringComparison.Ordinal);
        Assert.Contains("The call threw System.ArgumentException: three is not allowed", error, StringComparison.Ordinal);
        Assert.Contains("at Neutral.Cli.Tests.ToolFunctions.Checked(Int32 x, RemoteContext context)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_that_did_not_fail_or_a_build_of_other_code_is_refused_in_one_line()
    {
        string id = await FailedJobAsync();
        var (code, _, error) = await RunAsync("replay", id, "2", "--executable", App());
        Assert.Equal(2, code);
        Assert.Equal($"neutral: call 2 of job {id} is not kept: its only failed call kept is 3.", error.TrimEnd());

        (code, _, error) = await RunAsync("replay", "20260101-000000-0000000000", "1");
        Assert.Equal(2, code);
        Assert.StartsWith("neutral: no failed call of job 20260101-000000-0000000000 is kept in local:", error, StringComparison.Ordinal);

        // The job ran another version of the method: the app refuses to run it.
        string path = Path.Combine(Root, "_neutral", "kept", id, "3.json");
        KeptCall kept = WireJson.DeserializeKept(File.ReadAllBytes(path));
        File.WriteAllBytes(path, WireJson.Serialize(kept with { Call = kept.Call with { SignatureHash = "00000000000000ff" } }));
        (code, var output, error) = await RunAsync("replay", id, "3", "--executable", App());
        Assert.Equal(2, code);
        Assert.Contains("neutral replay: this build's Neutral.Cli.Tests.ToolFunctions.Checked(int", error, StringComparison.Ordinal);
        Assert.Contains($"but job {id} called 00000000000000ff", error, StringComparison.Ordinal);
        Assert.DoesNotContain("checking 3", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_with_more_than_4_MiB_of_arguments_is_not_kept_and_a_small_one_is()
    {
        string id;
        await using (Cloud cloud = Cloud.Connect(o =>
        {
            o.Local.Root = Root;
            o.Local.Isolation = "inproc";
            o.Job.CancelOnSignal = false;
        }))
        {
            RemoteJob<int> job = cloud.Submit([Remote.ToolFunctions.Refuse(new byte[16]), Remote.ToolFunctions.Refuse(new byte[KeptFailures.MaxArgumentBytes + 1])]);
            await Assert.ThrowsAsync<RemoteJobException>(() => job.GetResultsAsync());
            await job.Completion;
            id = job.JobId;
        }

        Assert.Equal(["0.json"], Directory.GetFiles(Path.Combine(Root, "_neutral", "kept", id)).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Print_gives_the_variables_for_an_IDE_and_runs_nothing()
    {
        string id = await FailedJobAsync();
        var (code, output, _) = await RunAsync("replay", id, "3", "--print", "--wait-for-debugger");
        Assert.Equal(0, code);
        Assert.Contains("  NEUTRAL_WORKER=replay", output, StringComparison.Ordinal);
        Assert.Contains("  DOTNET_STARTUP_HOOKS=Neutral.Workers", output, StringComparison.Ordinal);
        Assert.Contains("  NEUTRAL_REPLAY_WAIT=1", output, StringComparison.Ordinal);
        Assert.Matches(@"  NEUTRAL_REPLAY=/.*\.json", output);
    }

    [Fact]
    public async Task With_KeepFailedHours_0_nothing_is_kept_and_expired_calls_are_swept()
    {
        string none = await FailedJobAsync(keepFailedHours: 0);
        Assert.False(Directory.Exists(Path.Combine(Root, "_neutral", "kept", none)));

        string id = await FailedJobAsync();
        var store = new Storage.PrefixedObjectStore(new Workers.Storage.FileSystemObjectStore(Root), Cloud.InternalPrefix);
        KeptCall kept = WireJson.DeserializeKept((await store.GetAsync(StorageLayout.Kept(id, 3)))!);
        Assert.Equal(0, await KeptFailures.SweepAsync(store, kept.Until.AddSeconds(-1), default));
        Assert.NotNull(await store.GetAsync(StorageLayout.Kept(id, 3)));
        Assert.Equal(1, await KeptFailures.SweepAsync(store, kept.Until.AddSeconds(1), default));
        Assert.Null(await store.GetAsync(StorageLayout.Kept(id, 3)));
    }
}

/// <summary>The application as a replay starts it: this test host started again with its tables' assemblies, as TestFunction's bootstrap does.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class TestApp
{
    /// <summary>Writes <c>app.sh</c> into <paramref name="folder"/>, loading <paramref name="assemblies"/> (;-separated), and returns its path.</summary>
    public static string Script(string folder, string assemblies)
    {
        string deps = ((string)AppContext.GetData("APP_CONTEXT_DEPS_FILES")!).Split(';')[0];
        string runtimeConfig = deps[..^".deps.json".Length] + ".runtimeconfig.json";
        string entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        string path = Path.Combine(folder, "app.sh");
        File.WriteAllText(path, $"#!/bin/sh\nNEUTRAL_WORKER_ASSEMBLIES='{assemblies}' exec '{Environment.ProcessPath}' exec --runtimeconfig '{runtimeConfig}' --depsfile '{deps}' '{entry}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
