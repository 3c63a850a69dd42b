using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Execution;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral;

/// <summary>
/// The worker side of <c>Job:InvokeFrom=cloud</c>, for a platform's worker runtime: a launcher call reads the list of
/// attempts its client staged and invokes each of them from inside the platform, under the client's own rules (at most
/// the list's concurrency in flight, lowered while the platform throttles; throttled and unreachable invokes sent
/// again after a back-off; an invoke whose answer does not come counted as delivered). An attempt that could not be
/// invoked, or was not by the launcher's deadline, is recorded as not run (<c>failed.{a}</c>), so that its client
/// launches it again at once; one whose launcher died is launched again at its start bound. Either way the new attempt
/// has a new number: nothing runs twice under one attempt.
/// </summary>
public static class CloudLaunch
{
    /// <summary>
    /// How long a launcher call goes on while the platform throttles every invocation it sends: then it hands what is
    /// left back to its client. A platform whose concurrency counts queued invocations (OpenWhisk's) can be filled by
    /// the launcher calls themselves, whose invocations then wait for them to end. Twice the longest back-off after a
    /// throttle (30 s), so that a launcher only waiting its turn does not give up.
    /// </summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    /// <summary>Builds a <see cref="CallRunner.LaunchHandler"/>.</summary>
    /// <param name="openStore">Opens the store an envelope names (as the runner's).</param>
    /// <param name="invoker">
    /// Builds the backend that invokes this worker's own function, from what the platform gives a running function
    /// (called once per process, at the first launcher call; a failure records that call's attempts as not run).
    /// </param>
    /// <param name="time">The clock for back-offs and deadlines; the system's when null.</param>
    public static Func<InvocationEnvelope, CancellationToken, Task<CallOutcome>> Handler(Func<StoreLocation, IObjectStore> openStore, Func<IComputeBackend> invoker, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(openStore);
        ArgumentNullException.ThrowIfNull(invoker);
        var backend = new Lazy<IComputeBackend>(invoker, LazyThreadSafetyMode.ExecutionAndPublication);
        TimeProvider clock = time ?? TimeProvider.System;
        return (launcher, cancellationToken) => RunAsync(openStore, backend, clock, launcher, cancellationToken);
    }

    private static async Task<CallOutcome> RunAsync(Func<StoreLocation, IObjectStore> openStore, Lazy<IComputeBackend> backend, TimeProvider time,
        InvocationEnvelope launcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launcher);
        IObjectStore root = openStore(launcher.Store);
        InvocationEnvelope[] envelopes;
        int concurrency;
        try
        {
            (envelopes, concurrency) = await LaunchList.ReadAsync(root, launcher, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or JsonException or MissingInputException or Codec.CodecException)
        {
            // Nothing to launch from (the job is gone, or a client of another version): its attempts meet their start bound.
            Console.Error.WriteLine($"neutral: launcher call {launcher.Attempt} of job {launcher.JobId}: {e.Message}");
            return new CallOutcome(launcher.JobId, launcher.CallIndex, launcher.Attempt, false, false, RemoteError.ProtocolKind);
        }

        // Every call of every listed invocation, until the platform accepts it or it is recorded as not run.
        var pending = new ConcurrentDictionary<(int Call, int Attempt), InvocationEnvelope>();
        foreach (InvocationEnvelope envelope in envelopes)
        {
            foreach (InvocationEnvelope call in envelope.Calls())
            {
                pending[(call.CallIndex, call.Attempt)] = call;
            }
        }

        int total = pending.Count;
        var refused = new ConcurrentQueue<(InvocationEnvelope Call, string Reason)>();
        IComputeBackend target;
        try
        {
            target = backend.Value;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await RecordNotRunAsync(root, launcher, pending, refused, $"the worker could not build its invoker: {e.Message}", time, total).ConfigureAwait(false);
            return new CallOutcome(launcher.JobId, launcher.CallIndex, launcher.Attempt, false, false, RemoteError.PlatformKind);
        }

        var progress = new StrongBox<long>(time.GetTimestamp());
        var loop = new Launcher(target, new InvokeGate(concurrency), concurrency, time, StandardErrorLogger.Warnings,
            (index, _, _) => envelopes[index].Deadline is { } due && due <= time.GetUtcNow() ? null : envelopes[index],
            (call, attempt, _, _, _) =>
            {
                Volatile.Write(ref progress.Value, time.GetTimestamp());
                pending.TryRemove((call, attempt), out _);
            },
            (call, attempt, error) =>
            {
                if (pending.TryRemove((call, attempt), out InvocationEnvelope? envelope))
                {
                    refused.Enqueue((envelope, error.GetType().Name + ": " + error.Message));
                }
            });
        for (int i = 0; i < envelopes.Length; i++)
        {
            loop.Enqueue(i, 0, 0);
        }

        loop.Start();

        // The launcher's own deadline (its platform's, or the client's start bound): what is not sent by then is not.
        using var deadline = launcher.Deadline is { } at
            ? new CancellationTokenSource(Max(at - time.GetUtcNow(), TimeSpan.Zero), time)
            : new CancellationTokenSource();
        bool stalled = false;
        using (CancellationTokenRegistration linked = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), deadline))
        using (CancellationTokenRegistration stop = deadline.Token.Register(static l => ((Launcher)l!).Stop(), loop))
        {
            Task drained = loop.DrainAsync();
            while (!drained.IsCompleted)
            {
                await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(1), time, deadline.Token)).ConfigureAwait(false);
                if (!drained.IsCompleted && !deadline.IsCancellationRequested && time.GetElapsedTime(Volatile.Read(ref progress.Value)) >= StallLimit)
                {
                    stalled = true;
                    await deadline.CancelAsync().ConfigureAwait(false);
                }
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // The worker is going away (its platform stops it): what is left meets its start bound at the client.
            return new CallOutcome(launcher.JobId, launcher.CallIndex, launcher.Attempt, false, false, RemoteError.PlatformKind);
        }

        await RecordNotRunAsync(root, launcher, pending, refused, stalled
            ? $"the platform throttled every invocation for {StallLimit.TotalSeconds:0} s (its concurrency may be held by launcher calls themselves), so the launcher handed it back to the client"
            : "the launcher call reached its deadline before invoking it", time, total).ConfigureAwait(false);
        return new CallOutcome(launcher.JobId, launcher.CallIndex, launcher.Attempt, pending.IsEmpty && refused.IsEmpty, false, null);
    }

    /// <summary>Records each refused attempt, and each still <paramref name="pending"/> one (for <paramref name="reason"/>), as not run.</summary>
    private static async Task RecordNotRunAsync(IObjectStore root, InvocationEnvelope launcher, ConcurrentDictionary<(int, int), InvocationEnvelope> pending,
        ConcurrentQueue<(InvocationEnvelope Call, string Reason)> refused, string reason, TimeProvider time, int total)
    {
        foreach (InvocationEnvelope call in pending.Values)
        {
            refused.Enqueue((call, reason));
        }

        if (refused.IsEmpty)
        {
            return;
        }

        Log.LaunchIncomplete(StandardErrorLogger.Warnings, launcher.Attempt, launcher.JobId, refused.Count, total, refused.TryPeek(out var first) ? first.Reason : reason);
        foreach ((InvocationEnvelope call, string why) in refused)
        {
            try
            {
                await CallRunner.RecordNotRunAsync(root, call, string.Create(CultureInfo.InvariantCulture,
                    $"Launcher call {launcher.Attempt} could not invoke attempt {call.Attempt} of call {call.CallIndex}: {why}"), time).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Unrecorded, the attempt meets its start bound and is launched again then.
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
