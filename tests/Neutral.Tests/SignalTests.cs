using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Execution;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Wire;
using Neutral.Workers.Storage;
using Xunit;

namespace Neutral.Tests;

/// <summary>Ctrl-C and SIGTERM: running jobs cancelled, what a normal end cleans cleaned, one line, then the exit.</summary>
public sealed class SignalTests
{
    [Fact]
    public async Task A_signal_cancels_running_jobs_cleans_up_and_exits_with_130_and_a_second_signal_is_left_to_the_runtime()
    {
        await using var local = new LocalCloud(workers: 2, configure: o => o.Job.CancelOnSignal = false);
        Cloud cloud = local.Cloud;
        await cloud.ShareAsync(new long[] { 1, 2 });
        RemoteJob<int> job = cloud.Submit(Enumerable.Range(0, 6).Select(_ => Remote.FaultFunctions.WaitForCancellation("cancelled")));
        await WaitUntilAsync(() => Files(local.ControlJobsFolder).Any(f => Path.GetFileName(f).EndsWith(".started", StringComparison.Ordinal)));
        Task<int[]> results = job.GetResultsAsync();

        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringWriter();
        var signals = new ShutdownSignals(code => exited.SetResult(code), output);
        signals.Track(cloud, register: false);
        var first = new PosixSignalContext(PosixSignal.SIGINT);
        var second = new PosixSignalContext(PosixSignal.SIGINT);
        signals.Handle(first);
        signals.Handle(second);

        Assert.True(first.Cancel);
        Assert.False(second.Cancel);
        Assert.Equal(130, await exited.Task.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("neutral: Ctrl-C: cancelling 1 running job and cleaning up (at most 15 s; Ctrl-C again exits at once)" + Environment.NewLine, output.ToString());

        // The application's await is left pending (it would otherwise run on, and crash on a cancellation, while the
        // process exits); everything a normal end deletes is gone: the job, the shared value, the client's record.
        Assert.False(results.IsCompleted);
        Assert.False(job.GetResultsAsync().IsCompleted);
        Assert.False(job[0].Task.IsCompleted);
        Assert.False(job.Completion.IsCompleted);
        Assert.DoesNotContain(Files(local.Root), f => !f.Contains("/cancelled/", StringComparison.Ordinal));
        Assert.Empty(Files(local.ControlJobsFolder));
    }

    [Fact]
    public async Task SIGTERM_exits_with_143_and_a_cloud_without_jobs_says_it_is_cleaning_up()
    {
        await using var local = new LocalCloud(workers: 1, configure: o => o.Job.CancelOnSignal = false);
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringWriter();
        var signals = new ShutdownSignals(code => exited.SetResult(code), output);
        signals.Track(local.Cloud, register: false);
        var context = new PosixSignalContext(PosixSignal.SIGTERM);
        signals.Handle(context);

        Assert.True(context.Cancel);
        Assert.Equal(143, await exited.Task.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("neutral: SIGTERM: cleaning up (at most 15 s; SIGTERM again exits at once)" + Environment.NewLine, output.ToString());
        // Code that goes on meanwhile waits for the exit: a new job never starts, a new shared value is never written.
        RemoteJob<int> late = local.Cloud.Submit([Remote.FaultFunctions.Sleep(1, 1)]);
        Task<Shared<long[]>> share = local.Cloud.ShareAsync(new long[] { 3 });
        await Task.Delay(200);
        Assert.False(late.GetResultsAsync().IsCompleted);
        Assert.False(late.Completion.IsCompleted);
        Assert.False(share.IsCompleted);
        Assert.Empty(Files(local.Root));
    }

    [Fact]
    public void With_no_cloud_open_a_signal_is_left_to_the_runtime()
    {
        var signals = new ShutdownSignals(_ => Assert.Fail("nothing to exit for"), new StringWriter());
        var context = new PosixSignalContext(PosixSignal.SIGINT);
        signals.Handle(context);
        Assert.False(context.Cancel);
    }

    [Fact]
    public void Under_AddNeutral_the_host_owns_shutdown_unless_configured()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        NeutralBuilder quiet = services.AddNeutral(new ConfigurationBuilder().Build());
        Assert.False(quiet.Options.Job.CancelOnSignal);
        NeutralBuilder set = services.AddNeutral(new ConfigurationBuilder()
            .AddInMemoryCollection([new("Neutral:Job:CancelOnSignal", "true")]).Build());
        Assert.True(set.Options.Job.CancelOnSignal);
        Assert.True(new NeutralOptions().Job.CancelOnSignal);
    }

    /// <summary>
    /// What a user does: Ctrl-C in the middle of the MonteCarlo sample's map. The real client process gets SIGINT (alone,
    /// or, as from a terminal, with its worker processes, the whole process group), says so in one line, and ends as
    /// killed by SIGINT (130), leaving nothing in its store's folder or in the shared-memory folder of its jobs.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_real_client_interrupted_with_SIGINT_mid_map_leaves_nothing_behind(bool wholeGroup)
    {
        using var folder = new TempFolder("neutral-sigint");
        string root = Path.Combine(folder.Path, "store");
        string control = FileSystemObjectStore.DefaultControlRoot(root) ?? root;
        using Process client = SampleProcess.Start(folder.Path, new Dictionary<string, string>
        {
            ["NEUTRAL__LOCAL__ROOT"] = root,
            ["NEUTRAL__LOCAL__WORKERS"] = "2",
        }, ownGroup: wholeGroup, "--calls", "400", "--samples", "20000000");
        Task<string> stdout = client.StandardOutput.ReadToEndAsync();
        Task<string> stderr = client.StandardError.ReadToEndAsync();
        try
        {
            // Mid-map: some call has started.
            await WaitUntilAsync(() => client.HasExited || Files(control).Any(f => Path.GetFileName(f).EndsWith(".started", StringComparison.Ordinal)));
            if (client.HasExited)
            {
                Assert.Fail("the client ended before a call started: " + await stderr);
            }

            string target = (wholeGroup ? "-" : "") + client.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using (Process kill = Process.Start(new ProcessStartInfo("kill", ["-INT", "--", target]) { UseShellExecute = false })!)
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await client.WaitForExitAsync(bound.Token);
        }
        finally
        {
            if (!client.HasExited)
            {
                client.Kill(entireProcessTree: true);
            }
        }

        string error = await stderr;
        Assert.True(client.ExitCode == 130, $"exit code {client.ExitCode}; standard error:\n{error}\nstandard output:\n{await stdout}");
        Assert.Contains("neutral: Ctrl-C: cancelling 1 running job and cleaning up", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
        Assert.Empty(Files(root));
        Assert.Empty(Files(control));
    }

    /// <summary>
    /// A real client killed with SIGKILL in the middle of a 2,000-call job (its worker processes die with it), and a
    /// second process that attaches to the job: it takes the job over at once (the first client's process is gone),
    /// relaunches every call without an outcome, and gets each result once; the job's data is gone after it.
    /// </summary>
    [Fact]
    public async Task A_second_process_attaches_to_the_job_of_a_client_killed_mid_job_and_gets_every_result()
    {
        using var folder = new TempFolder("neutral-sigkill");
        string root = Path.Combine(folder.Path, "store");
        string control = FileSystemObjectStore.DefaultControlRoot(root) ?? root;
        var environment = new Dictionary<string, string>
        {
            ["NEUTRAL__LOCAL__ROOT"] = root,
            ["NEUTRAL__LOCAL__WORKERS"] = "2",
            ["NEUTRAL__JOB__LEASESECONDS"] = "3",
        };
        // The client kills itself with SIGKILL once 20 calls are done (the sample's --kill-after): no handler runs, nothing
        // is cleaned up, and its worker processes see their parent gone and end.
        var (killed, firstOutput, firstError) = await SampleProcess.RunAsync(folder.Path, environment, "--calls", "2000", "--samples", "2000000", "--kill-after", "20");
        Assert.True(killed == 137, $"exit code {killed}; standard error:\n{firstError}\nstandard output:\n{firstOutput}");
        string jobId = firstOutput.Split("job ")[1].Split(' ')[0];

        int done = Files(control).Concat(Files(root)).Count(f => Path.GetFileName(f) == "status");
        Assert.InRange(done, 20, 1999);

        var (code, output, error) = await SampleProcess.RunAsync(folder.Path, environment, "--attach", jobId, "--samples", "2000000");
        Assert.True(code == 0, $"exit code {code}; standard error:\n{error}\nstandard output:\n{output}");
        Assert.Contains($"attached to job {jobId}: 2000 calls", output, StringComparison.Ordinal);
        Assert.Contains("results 2000, relaunched ", output, StringComparison.Ordinal);
        Assert.Contains("match True", output, StringComparison.Ordinal);
        // Every call the first client had not seen end was run again, in the second client's attempt numbers.
        int relaunched = int.Parse(output.Split("relaunched ")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(relaunched, 1, 2000 - 20);
        Assert.DoesNotContain(Files(control), f => f.Contains(jobId, StringComparison.Ordinal));
        Assert.DoesNotContain(Files(root), f => f.Contains(jobId, StringComparison.Ordinal));
    }

    /// <summary>
    /// A job's lease tells the sweep who drives it: a job whose driver crashed on this host stays Job:AttachMinutes after
    /// the lease's last renewal (for a client to attach to it), one with a client attached stays whatever its lease's
    /// age (that client takes it over), and the rest go.
    /// </summary>
    [Fact]
    public async Task The_sweep_keeps_a_crashed_client_s_job_for_attaching_and_a_job_with_an_attached_client()
    {
        using var folder = new TempFolder("neutral-sweep-lease");
        var store = new PrefixedObjectStore(new FileSystemObjectStore(folder.Path, FileSystemObjectStore.DefaultControlRoot(folder.Path)), Cloud.InternalPrefix);
        string gone = await GoneOwnerAsync();

        string now = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        string fresh = now + "-00000000b1", stale = now + "-00000000b2", watched = now + "-00000000b3";
        DateTimeOffset clock = DateTimeOffset.UtcNow;
        foreach (var (job, renewed) in new[] { (fresh, clock), (stale, clock.AddMinutes(-20)), (watched, clock.AddMinutes(-20)) })
        {
            await LocalFaultTests.WriteJobAsync(store, job, gone, kept: false);
            await store.PutAsync(StorageLayout.Lease(job, 0), WireJson.Serialize(new LeaseRecord { ClientId = "c1", Owner = gone, Renewed = renewed, Beat = 7, Seconds = 30 }));
        }

        await store.PutAsync(StorageLayout.Attached(watched, "c2"), WireJson.Serialize(new LeaseRecord
        {
            ClientId = "c2", Owner = Execution.CloudContext.OwnerOf(Environment.ProcessId), Renewed = clock, Beat = 1, Seconds = 30,
        }));

        await using (Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.SweepAfterHours = 0.5; o.Job.CancelOnSignal = false; }))
        {
            await WaitUntilAsync(async () => await store.GetAsync(StorageLayout.Manifest(stale)) is null);
        }

        Assert.NotNull(await store.GetAsync(StorageLayout.Manifest(fresh)));
        Assert.NotNull(await store.GetAsync(StorageLayout.Manifest(watched)));

        // With no time to attach, a crashed client's job goes at once; the one with a client attached still stays.
        await using (Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.SweepAfterHours = 0.5; o.Job.AttachMinutes = 0; o.Job.CancelOnSignal = false; }))
        {
            await WaitUntilAsync(async () => await store.GetAsync(StorageLayout.Manifest(fresh)) is null);
        }

        Assert.NotNull(await store.GetAsync(StorageLayout.Manifest(watched)));
    }

    [Fact]
    public async Task Connect_sweeps_at_once_what_a_gone_client_of_this_host_left_but_not_the_jobs_it_kept()
    {
        using var folder = new TempFolder("neutral-sweep-here");
        var store = new PrefixedObjectStore(new FileSystemObjectStore(folder.Path, FileSystemObjectStore.DefaultControlRoot(folder.Path)), Cloud.InternalPrefix);
        string gone = await GoneOwnerAsync();

        string now = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        string client = now + "-00000000c1", keeper = now + "-00000000c2", job = now + "-00000000a1", kept = now + "-00000000a2", elsewhere = now + "-00000000a3", live = now + "-00000000a4";
        await LocalFaultTests.WriteJobAsync(store, job, gone, kept: false);
        await LocalFaultTests.WriteJobAsync(store, kept, gone, kept: true);
        await LocalFaultTests.WriteJobAsync(store, elsewhere, "another-host/1/1", kept: false);
        await LocalFaultTests.WriteJobAsync(store, live, Execution.CloudContext.OwnerOf(Environment.ProcessId), kept: false); // this process: running
        await store.PutAsync(StorageLayout.Client(client), System.Text.Encoding.UTF8.GetBytes(gone));
        await store.PutAsync(StorageLayout.ClientShared(client) + "abc", new byte[] { 1 });
        // A gone client that kept its data (Job:KeepData): its shared values stay for its kept jobs.
        await store.PutAsync(StorageLayout.Client(keeper), System.Text.Encoding.UTF8.GetBytes(gone + "\nkeep"));
        await store.PutAsync(StorageLayout.ClientShared(keeper) + "abc", new byte[] { 1 });

        await using Cloud cloud = Cloud.Connect(o => { o.Local.Root = folder.Path; o.Local.Workers = 1; o.Job.SweepAfterHours = 0.5; o.Job.CancelOnSignal = false; });
        await WaitUntilAsync(async () => await store.GetAsync(StorageLayout.Client(client)) is null && await store.GetAsync(StorageLayout.Manifest(job)) is null);

        Assert.Null(await store.GetAsync(StorageLayout.ClientShared(client) + "abc"));
        Assert.NotNull(await store.GetAsync(StorageLayout.Manifest(kept)));
        Assert.NotNull(await store.GetAsync(StorageLayout.Manifest(elsewhere)));
        Assert.NotNull(await store.GetAsync(StorageLayout.Manifest(live)));
        Assert.NotNull(await store.GetAsync(StorageLayout.ClientShared(keeper) + "abc"));
        Assert.NotNull(await store.GetAsync(StorageLayout.Client(keeper)));
    }

    [Fact]
    public void SweepAfterHours_takes_fractions_and_refuses_what_is_not_a_number()
    {
        NeutralOptions options = NeutralConfiguration.Read(new ConfigurationBuilder()
            .AddInMemoryCollection([new("Neutral:Job:SweepAfterHours", "0.25")]).Build());
        Assert.Equal(0.25, options.Job.SweepAfterHours);
        var error = Assert.Throws<NeutralConfigurationException>(() => NeutralConfiguration.Read(new ConfigurationBuilder()
            .AddInMemoryCollection([new("Neutral:Job:SweepAfterHours", "soon")]).Build()));
        Assert.Contains("Neutral:Job:SweepAfterHours", error.Message, StringComparison.Ordinal);
        Assert.Contains("fractions allowed", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The owner string of a client process of this host that has ended.</summary>
    private static async Task<string> GoneOwnerAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return $"{Environment.MachineName}/{process.Id}/12345";
    }

    private static string[] Files(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 6000 && !await condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(await condition(), "the condition was not met within a minute");
    }
}
