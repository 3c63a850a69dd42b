using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Wire;
using Xunit;

namespace Neutral.Tests;

/// <summary>
/// Protocol version 3: completions are found from the markers of the launch slots in flight, not from listings of the
/// whole job; nothing is missed and nothing is counted twice when listings lag, workers' clocks disagree, and markers
/// are lost or duplicated.
/// </summary>
public sealed class CompletionDiscoveryTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task Finding_completions_lists_the_slots_in_flight_never_the_whole_job()
    {
        await using var rig = new SimulatedRig(o => o.Job.Speculation = false);
        rig.Platform.ConcurrencyLimit = 200;
        const int Calls = 6_000;
        var job = rig.Cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour, TimeSpan.FromMilliseconds(50));
        Assert.Equal(Enumerable.Range(0, Calls).Select(i => i * i), results);

        // A listing of the job's calls would hold 12,000 keys; a slot holds the markers of 400 attempts (two each).
        Assert.InRange(rig.Requests.LargestListing, 1, 2 * CompletionSlots.Size + 20);
        Assert.True(rig.Requests.Lists > Calls / CompletionSlots.Size, $"{rig.Requests.Lists} listings");
    }

    [Fact]
    public async Task Every_completion_is_found_once_despite_lag_skewed_clocks_and_lost_or_duplicated_markers()
    {
        await using var rig = new SimulatedRig(o =>
        {
            o.Job.StartTimeoutSeconds = 20;
            o.Job.Retries = 5;
        }, seed: 5);
        const int Calls = 3_000;
        rig.Platform.ConcurrencyLimit = 300;
        rig.Platform.WorkerClockSkew = TimeSpan.FromSeconds(30);
        rig.Platform.DuplicateRate = 0.02;
        rig.Store.ListingLag = TimeSpan.FromSeconds(1);

        // One marker in fifteen is lost (the worker wrote its status, then died); every status marker is also
        // written a second time into the next slot, as a confused worker might.
        rig.Store.LoseWrite = key => key.Contains("/slots/", StringComparison.Ordinal) && (uint)StableHash(key) % 15 == 0;
        rig.Store.BeforeWrite = async key =>
        {
            if (key.Contains("/slots/", StringComparison.Ordinal) && IsStatusMarker(key, out _, out _))
            {
                string[] parts = key.Split('/');
                int slot = int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture);
                parts[^2] = (slot + 1).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
                await rig.Memory.PutAsync(string.Join('/', parts), ReadOnlyMemory<byte>.Empty);
            }
        };

        var job = rig.Cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour, TimeSpan.FromMilliseconds(50));

        Assert.Equal(Enumerable.Range(0, Calls).Select(i => i * i), results);
        Assert.Equal(new JobProgress(Calls, Calls, 0, 0, 0), job.Current);
        Assert.All(job.Futures, f => Assert.Equal(RemoteCallState.Succeeded, f.State));
        Assert.True(rig.Store.LostWrites > 100, $"only {rig.Store.LostWrites} markers were lost");
        Assert.True(rig.Platform.Duplicates > 20, $"only {rig.Platform.Duplicates} invocations were duplicated");

        // The workers' clocks really were apart: some ran 30 s ahead of the client, some 30 s behind.
        Assert.Contains(job.Futures, f => f.Stats.WorkerStart - f.Stats.Invoked > TimeSpan.FromSeconds(25));
        Assert.Contains(job.Futures, f => f.Stats.Invoked - f.Stats.WorkerStart > TimeSpan.FromSeconds(25));
    }

    /// <summary>Whether <paramref name="key"/> is a status marker (bare, or carrying its status), and whose.</summary>
    private static bool IsStatusMarker(string key, out int call, out int attempt)
    {
        int name = key.LastIndexOf('/');
        return StorageLayout.TryParseSlotMarker(key.AsSpan(name + 1), out call, out attempt, out char kind) & kind == 't';
    }

    [Fact]
    public async Task A_lost_status_marker_costs_a_read_not_the_calls_timeout()
    {
        // The status markers of one call in ten never land: the job still ends within a minute where the calls' timeout
        // is ten, from the reads of a quiet slot's last calls and of stragglers before they get a backup.
        await using var rig = new SimulatedRig(o => o.Job.TimeoutSeconds = 600);
        rig.Store.LoseWrite = key => IsStatusMarker(key, out int call, out int attempt) && call % 10 == 0 && attempt == 1;
        var job = rig.Cloud.Submit(Enumerable.Range(0, 200).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * i), results);
        Assert.Equal(20, rig.Store.LostWrites);
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
    }

    [Fact]
    public async Task A_worker_refuses_an_envelope_of_a_newer_protocol_naming_both_versions()
    {
        await using var rig = new SimulatedRig();
        RemoteCall<int> call = Remote.TestFunctions.Square(3);
        var envelope = new InvocationEnvelope
        {
            Version = InvocationEnvelope.CurrentVersion + 1,
            JobId = "future",
            CallIndex = 0,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            InlineInput = call.Arguments.ToArray(),
            Attempt = 1,
            Store = rig.Platform.Store,
        };
        var runner = new Workers.CallRunner(_ => rig.Memory, "test");
        Workers.CallOutcome outcome = await runner.RunAsync(envelope);
        Assert.False(outcome.Succeeded);
        StatusRecord status = WireJson.DeserializeStatus((await rig.Memory.GetAsync(Cloud.InternalPrefix + StorageLayout.Status("future", 0)))!);
        Assert.Equal(RemoteError.ProtocolKind, status.Error!.Kind);
        Assert.Contains($"version {InvocationEnvelope.CurrentVersion + 1}", status.Error.Message, StringComparison.Ordinal);
        Assert.Contains($"version {InvocationEnvelope.CurrentVersion} at most", status.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public async Task A_worker_puts_a_small_status_in_its_marker_from_protocol_version_4(int version, bool carried)
    {
        await using var rig = new SimulatedRig();
        RemoteCall<int> call = Remote.TestFunctions.Square(7);
        var envelope = new InvocationEnvelope
        {
            Version = version,
            JobId = "j" + version,
            CallIndex = 5,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            InlineInput = call.Arguments.ToArray(),
            Attempt = 2,
            Slot = 0,
            Store = rig.Platform.Store,
        };
        Workers.CallOutcome outcome = await new Workers.CallRunner(_ => rig.Memory, "host-1").RunAsync(envelope);
        Assert.True(outcome.Succeeded);

        string slot = Cloud.InternalPrefix + StorageLayout.Slot(envelope.JobId, 0);
        var names = new List<string>();
        await foreach (var info in rig.Memory.ListAsync(slot))
        {
            names.Add(info.Key[slot.Length..]);
        }

        string marker = Assert.Single(names, n => n.Contains(".status", StringComparison.Ordinal));
        Assert.True(StorageLayout.TryParseSlotMarker(marker, out int index, out int attempt, out char kind, out ReadOnlySpan<char> parsed));
        string payload = parsed.ToString();
        Assert.Equal((5, 2, 't'), (index, attempt, kind));
        Assert.Equal(carried, payload.Length > 0);
        if (carried)
        {
            // The copy is the status object, field for field.
            StatusRecord status = WireJson.DeserializeStatus((await rig.Memory.GetAsync(Cloud.InternalPrefix + StorageLayout.Status(envelope.JobId, 5)))!);
            StatusRecord copy = MarkerStatus.Decode(payload, envelope.JobId, 5, 2)!;
            Assert.Equal(status with { InlineResult = null }, copy with { InlineResult = null });
            Assert.Equal(status.InlineResult, copy.InlineResult);
            Assert.Equal("host-1", copy.Host);
        }
    }

    [Fact]
    public async Task A_small_success_is_applied_from_its_marker_without_a_read()
    {
        await using var rig = new SimulatedRig(o => o.Job.KeepData = true);
        var job = rig.Cloud.Submit(Enumerable.Range(0, 500).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => i * i), results);

        // Statuses read: only the tail's direct reads, not one a call.
        Assert.True(rig.Requests.Gets < 100, $"{rig.Requests.Gets} reads for 500 calls");

        // The stats are the status object's.
        foreach (int i in new[] { 0, 250, 499 })
        {
            StatusRecord status = WireJson.DeserializeStatus((await rig.Memory.GetAsync(Cloud.InternalPrefix + StorageLayout.Status(job.JobId, i)))!);
            Assert.Equal(status.WorkerStart, job[i].Stats.WorkerStart);
            Assert.Equal(status.WorkerEnd, job[i].Stats.WorkerEnd);
            Assert.Equal(status.Host, job[i].Stats.WorkerHost);
            Assert.Equal(status.BytesIn, job[i].Stats.BytesIn);
        }
    }

    [Fact]
    public async Task A_marker_whose_status_does_not_decode_costs_a_read_not_a_wrong_result()
    {
        await using var rig = new SimulatedRig();
        // Every status marker lands with a payload this client cannot read (a future format, a damaged name).
        rig.Store.LoseWrite = key => key.Contains("/slots/", StringComparison.Ordinal) && IsStatusMarker(key, out _, out _);
        rig.Store.BeforeWrite = async key =>
        {
            if (key.Contains("/slots/", StringComparison.Ordinal) && IsStatusMarker(key, out int call, out int attempt))
            {
                string folder = key[..(key.LastIndexOf('/') + 1)];
                await rig.Memory.PutAsync(folder + call.ToString("D7", System.Globalization.CultureInfo.InvariantCulture) + "." + attempt + ".status.AgAAAAAAAAAAAA", ReadOnlyMemory<byte>.Empty);
            }
        };
        var job = rig.Cloud.Submit(Enumerable.Range(0, 100).Select(i => Remote.TestFunctions.Square(i)));
        int[] results = await rig.DriveAsync(job.GetResultsAsync(), Hour);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * i), results);
        Assert.True(rig.Requests.Gets >= 100, $"{rig.Requests.Gets} reads: the damaged markers were believed");
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.AttemptsStarted));
    }

    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char c in text)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }
}
