using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>
/// The periodic sweep over a job's pending calls: attempts past their deadline and accepted attempts that never
/// started are lost once storage confirms they left no outcome (with the platform's explanation when it keeps one);
/// stragglers get a speculative backup. The judgements are <see cref="AttemptPolicy"/>'s; this part acts on them.
/// </summary>
internal sealed class AttemptSweeper
{
    private readonly string _jobId;
    private readonly CallLedger _ledger;
    private readonly EnvelopeFactory _calls;
    private readonly AttemptPolicy _policy;
    private readonly OutcomeReader _outcomes;
    private readonly IComputeBackend _backend;
    private readonly TimeProvider _time;
    private readonly int _startTimeoutSeconds;
    private readonly AttemptStarter _attempts;
    private readonly Action<string> _trace;
    private readonly CompletionSlots _slots;
    private readonly List<int> _judged = [];

    public AttemptSweeper(string jobId, CallLedger ledger, EnvelopeFactory calls, AttemptPolicy policy, OutcomeReader outcomes, IComputeBackend backend,
        TimeProvider time, int startTimeoutSeconds, AttemptStarter attempts, CompletionSlots slots, Action<string> trace)
    {
        _slots = slots;
        _jobId = jobId;
        _ledger = ledger;
        _calls = calls;
        _policy = policy;
        _outcomes = outcomes;
        _backend = backend;
        _time = time;
        _startTimeoutSeconds = startTimeoutSeconds;
        _attempts = attempts;
        _trace = trace;
    }

    public async Task SweepAsync(DateTimeOffset now)
    {
        // Only calls whose newest attempt was accepted can be overdue or straggle, and those are in the active slots:
        // a sweep costs in proportion to the calls in flight, not to the job.
        _judged.Clear();
        foreach (int slot in _slots.Active)
        {
            CompletionSlots.Slot s = _slots[slot];
            for (int k = 0; k < s.Count; k++)
            {
                int call = s.Calls[k];
                if (!_ledger[call].Done && _ledger[call].Slot == slot)
                {
                    _judged.Add(call);
                }
            }
        }

        List<(int Index, AttemptVerdict Verdict)>? overdue = null;
        List<int>? stragglers = null;
        foreach (int i in _judged)
        {
            CallState state = _ledger[i];
            if (state.Done)
            {
                continue;
            }

            switch (_policy.Judge(state, _calls.TimeoutOf(i), now, _ledger.Done, _ledger.Count))
            {
                case AttemptVerdict.NeverStarted:
                    (overdue ??= []).Add((i, AttemptVerdict.NeverStarted));
                    break;
                case AttemptVerdict.PastDeadline:
                    (overdue ??= []).Add((i, AttemptVerdict.PastDeadline));
                    break;
                case AttemptVerdict.Backup:
                    (stragglers ??= []).Add(i);
                    break;
            }
        }

        if (stragglers is not null)
        {
            // A straggler may have finished with its marker lost: one read is cheaper than a backup.
            await _outcomes.ApplyStatusesAsync(stragglers).ConfigureAwait(false);
            foreach (int i in stragglers)
            {
                if (!_ledger[i].Done && !_ledger[i].Speculated)
                {
                    _trace($"speculating call {i}");
                    _attempts.Launch(i, speculative: true);
                }
            }
        }

        if (overdue is null)
        {
            return;
        }

        // The outcome may be there after all: read it before calling the attempt lost.
        await _outcomes.ApplyStatusesAsync(overdue.Select(o => o.Index)).ConfigureAwait(false);
        List<(int Index, int Attempt, AttemptVerdict Verdict)>? lost = null;
        foreach (var (index, verdict) in overdue)
        {
            CallState state = _ledger[index];
            if (state.Done)
            {
                continue;
            }

            int attempt = state.Launched;
            if (await _outcomes.ReadOneAsync(index, StorageLayout.Failed(_jobId, index, attempt)).ConfigureAwait(false) is { } failed)
            {
                await _outcomes.ApplyAsync(index, failed, final: false).ConfigureAwait(false);
            }
            else if (!state.Done && state.Launched == attempt)
            {
                (lost ??= []).Add((index, attempt, verdict));
            }
        }

        if (lost is null)
        {
            return;
        }

        string?[] explanations = await ExplainAsync(lost).ConfigureAwait(false);
        for (int k = 0; k < lost.Count; k++)
        {
            var (index, attempt, verdict) = lost[k];
            if (_ledger[index].Done || _ledger[index].Launched != attempt)
            {
                continue;
            }

            string because = explanations[k] is { } platform ? "; " + platform : "";
            if (verdict == AttemptVerdict.NeverStarted)
            {
                _attempts.Fault(index, "Neutral.NeverStarted", $"attempt {attempt} was accepted but did not start within {_startTimeoutSeconds} s (Job:StartTimeoutSeconds){because}");
            }
            else
            {
                _attempts.Fault(index, typeof(TimeoutException).FullName!, $"the call ran past {Workers.RemoteErrors.TimeoutText(_calls.TimeoutOf(index).TotalSeconds)}: no status by the attempt's deadline{because}");
            }
        }
    }

    /// <summary>What a deployed backend's platform recorded about lost attempts (none from other backends), in parallel and bounded in time.</summary>
    private async Task<string?[]> ExplainAsync(List<(int Index, int Attempt, AttemptVerdict Verdict)> lost)
    {
        var explanations = new string?[lost.Count];
        if (_backend is not IDeployedComputeBackend deployed)
        {
            return explanations;
        }

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        await Parallel.ForAsync(0, lost.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = CancellationToken.None }, async (k, _) =>
        {
            try
            {
                explanations[k] = await deployed.ExplainAttemptAsync(_jobId, lost[k].Index, lost[k].Attempt, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _trace($"no explanation for call {lost[k].Index}: {e.Message}");
            }
        }).ConfigureAwait(false);
        return explanations;
    }
}
