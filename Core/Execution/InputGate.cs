using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>What the engine needs of a future passed as an argument (<see cref="RemoteFuture{T}"/> whatever its T).</summary>
internal interface IProducingCall
{
    string JobId { get; }

    int CallIndex { get; }

    RemoteCallState State { get; }

    RemoteException? Exception { get; }

    /// <summary>Completes when the call has an outcome, without reading a result left in storage.</summary>
    Task Ended { get; }

    JobHolds Holds { get; }
}

/// <summary>
/// A job's calls that take other calls' results (<see cref="RemoteCall{TResult}.Inputs"/>): each is held back until its
/// inputs have outcomes, then launched when all succeeded, or failed naming the input that did not. The job keeps a
/// hold on each producing job's data until it ends (<see cref="JobHolds"/>).
/// </summary>
internal sealed class InputGate
{
    private readonly Dictionary<int, RemoteInput[]> _inputs;
    private readonly Dictionary<int, InputSource[]> _sources;
    private List<JobHolds>? _held;

    private InputGate(Dictionary<int, RemoteInput[]> inputs, List<JobHolds> held)
    {
        _inputs = inputs;
        _held = held;
        _sources = inputs.ToDictionary(p => p.Key, p => p.Value.Select(i => new InputSource(i.Offset, i.Source.JobId, i.Source.CallIndex, i.Parameter)).ToArray());
    }

    /// <summary>The calls held back for their inputs.</summary>
    public int Count => _inputs.Count;

    /// <summary>
    /// The gate of a job of <paramref name="calls"/>, null when no call takes another's result. Takes over the holds the
    /// calls' stubs took on the producing jobs (or takes new ones for a call submitted again).
    /// </summary>
    /// <exception cref="ArgumentException">An input is not a future of this cloud, or its job's data is gone.</exception>
    public static InputGate? Create<T>(CloudContext cloud, RemoteCall<T>[] calls)
    {
        Dictionary<int, RemoteInput[]>? inputs = null;
        var held = new List<JobHolds>();
        try
        {
            for (int i = 0; i < calls.Length; i++)
            {
                if (calls[i].Inputs is not { Count: > 0 } given)
                {
                    continue;
                }

                var list = new RemoteInput[given.Count];
                for (int n = 0; n < given.Count; n++)
                {
                    RemoteInput input = given[n];
                    if (input.Source is not IProducingCall producer)
                    {
                        throw new ArgumentException($"Call {i}'s argument '{input.Parameter}' is a {input.Source.GetType().Name}: only the futures of a Cloud's jobs can be passed as arguments.", nameof(calls));
                    }

                    if (!ReferenceEquals(producer.Holds.Cloud, cloud))
                    {
                        throw new ArgumentException($"Call {i}'s argument '{input.Parameter}' is a future of job {producer.JobId}, which another Cloud runs: a call reads its inputs from its own cloud's store, so submit it to the cloud that ran the job.", nameof(calls));
                    }

                    // The stub's hold goes to the first job that runs the call; a call submitted again takes a hold of its own.
                    if (!input.TryClaim() && !producer.Holds.TryAcquire())
                    {
                        throw new ArgumentException($"Call {i} was made with the future of call {producer.CallIndex} of job {producer.JobId} as '{input.Parameter}', and was submitted once already; that job's data has been deleted since. Make the call again from the future to submit it again.", nameof(calls));
                    }

                    held.Add(producer.Holds);
                    list[n] = input;
                }

                (inputs ??= [])[i] = list;
            }
        }
        catch
        {
            foreach (JobHolds holds in held)
            {
                holds.Release();
            }

            // The stubs' holds of the inputs not reached: let go too, once each (one claimed already is another job's).
            foreach (RemoteInput input in calls.SelectMany(c => c.Inputs ?? []))
            {
                if (input.Source is IProducingCall producer && input.TryClaim())
                {
                    producer.Holds.Release();
                }
            }

            throw;
        }

        return inputs is null ? null : new InputGate(inputs, held);
    }

    /// <summary>Whether call <paramref name="index"/> waits for inputs.</summary>
    public bool Holds(int index) => _inputs.ContainsKey(index);

    /// <summary>The inputs of call <paramref name="index"/> as its envelope names them; null for a call of values only.</summary>
    public IReadOnlyList<InputSource>? SourcesOf(int index) => _sources.TryGetValue(index, out InputSource[]? sources) ? sources : null;

    /// <summary>Calls <paramref name="ready"/> (any thread) for each held call once all its inputs have outcomes.</summary>
    public void Watch(Action<int> ready)
    {
        foreach (var (index, inputs) in _inputs)
        {
            Task all = inputs.Length == 1 ? ((IProducingCall)inputs[0].Source).Ended : Task.WhenAll(inputs.Select(i => ((IProducingCall)i.Source).Ended));
            _ = all.ContinueWith(static (_, state) =>
            {
                var (ready, index) = ((Action<int>, int))state!;
                ready(index);
            }, (ready, index), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Whether every input of call <paramref name="index"/> has an outcome.</summary>
    public bool Ended(int index) => _inputs[index].All(i => ((IProducingCall)i.Source).Ended.IsCompleted);

    /// <summary>
    /// Null when every input of call <paramref name="index"/> succeeded (launch it); else the call's failure, naming the
    /// first input that failed or was cancelled.
    /// </summary>
    public RemoteException? Check(string jobId, int index)
    {
        foreach (RemoteInput input in _inputs[index])
        {
            var producer = (IProducingCall)input.Source;
            string name = $"input '{input.Parameter}' (call {producer.CallIndex} of job {producer.JobId})";
            switch (producer.State)
            {
                case RemoteCallState.Succeeded:
                    continue;
                case RemoteCallState.Failed:
                    RemoteException? cause = producer.Exception;
                    return new RemoteException($"Call {index} of job {jobId} did not run: its {name} failed: {cause?.RemoteTypeName}: {cause?.Message}",
                        InputFailedType, null, jobId, index, 0, cause);
                default:
                    return new RemoteException($"Call {index} of job {jobId} did not run: its {name} was cancelled.", InputCancelledType, null, jobId, index, 0);
            }
        }

        return null;
    }

    /// <summary>Lets the producing jobs' data go (the job ended): once.</summary>
    public void Release()
    {
        foreach (JobHolds holds in Interlocked.Exchange(ref _held, null) ?? [])
        {
            holds.Release();
        }
    }

    /// <summary>The <see cref="RemoteException.RemoteTypeName"/> of a call whose input failed.</summary>
    public const string InputFailedType = "Neutral.InputFailed";

    /// <summary>The <see cref="RemoteException.RemoteTypeName"/> of a call whose input was cancelled.</summary>
    public const string InputCancelledType = "Neutral.InputCancelled";
}
