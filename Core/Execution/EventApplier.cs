using System;
using System.Threading.Tasks;

namespace Neutral.Execution;

/// <summary>
/// Applies what the launcher and the backend's hints report about an attempt to its call: the attempt accepted or
/// started (recorded), finished (its outcome applied, or queued for reading), lost (queued for the next read, which
/// decides whether it really is) or refused (a platform fault). An event about an attempt that is no longer the call's
/// current one only ends it. Monitor task only; cancellation is the runner's.
/// </summary>
internal sealed class EventApplier(CallLedger ledger, OutcomeReader outcomes, AttemptStarter attempts, StatusPoller poller, TimeProvider time)
{
    /// <summary>Applies <paramref name="e"/>; reads it asks for go into <paramref name="reads"/>.</summary>
    public async ValueTask ApplyAsync(JobEvent e, ReadSet reads)
    {
        if (e.EndsAttempt)
        {
            attempts.Ended();
        }

        CallState state = ledger[e.CallIndex];
        if (state.Done)
        {
            return;
        }

        bool current = e.Attempt == state.Launched;
        if (e.Kind == JobEventKind.Invoked)
        {
            // Its markers go into its slot: list the slot from now on (a superseded attempt may still win).
            poller.Accepted(e.Slot);
        }

        switch (e.Kind)
        {
            case JobEventKind.Invoked when current:
                state.InvokedAt = e.At; // recorded in the call's stats with its outcome
                state.Position = (ushort)Math.Min(e.Position, ushort.MaxValue);
                break;
            case JobEventKind.Started when current:
                ledger.Started(e.CallIndex, time.GetUtcNow());
                break;
            case JobEventKind.Finished when e.Bytes is not null:
                // The worker wrote exactly these bytes: no need to read them back.
                await outcomes.ApplyAsync(e.CallIndex, e.Bytes, final: null).ConfigureAwait(false);
                break;
            case JobEventKind.Finished:
                reads.Status.Add(e.CallIndex);
                break;
            case JobEventKind.Lost when current:
                reads.Lost.Add((e.CallIndex, e.Attempt, e.Detail ?? "the worker was lost"));
                break;
            case JobEventKind.InvokeFailed when current:
                attempts.Fault(e.CallIndex, "Neutral.InvokeFailed", "the invocation failed: " + e.Detail);
                break;
        }
    }
}
