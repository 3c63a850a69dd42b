using System;
using System.Collections.Generic;
using System.Linq;

namespace Neutral.Execution;

/// <summary>
/// The one typed part of a job: its calls until they are packed, and the futures their results decode into. The rest
/// of the engine is not generic (NativeAOT copies generic code per value-type result; only this part needs copying).
/// </summary>
internal interface IResultSink
{
    /// <summary>The number of calls.</summary>
    int Count { get; }

    /// <summary>The function of the first call (the job manifest's).</summary>
    RemoteFunction First { get; }

    /// <summary>Each function the job calls, once.</summary>
    IReadOnlyList<RemoteFunction> Functions { get; }

    /// <summary>The function call <paramref name="index"/> runs.</summary>
    RemoteFunction FunctionOf(int index);

    /// <summary>Packs every call's arguments and lets the calls go (the packed copy is all the job keeps).</summary>
    JobStaging Pack();

    /// <summary>Lets the calls go without packing them (the job ended before it was staged).</summary>
    void Release();

    CallStats StatsOf(int index);

    void UpdateStats(int index, Func<CallStats, CallStats> update);

    void MarkRunning(int index);

    /// <summary>Decodes <paramref name="payload"/> as call <paramref name="index"/>'s result, for <see cref="TryDeliver"/>.</summary>
    /// <exception cref="Codec.CodecException">The bytes are not a result of the call's function (nothing changed).</exception>
    void Decode(int index, ReadOnlySpan<byte> payload);

    /// <summary>Completes call <paramref name="index"/>'s future with the result <see cref="Decode"/> just decoded.</summary>
    bool TryDeliver(int index);

    bool TryFail(int index, RemoteException error);

    bool TryCancel(int index);

    /// <summary>What the job used so far, from its calls' stats.</summary>
    JobUsage Usage();
}

/// <summary>The futures of a job whose calls return <typeparamref name="T"/>.</summary>
internal sealed class ResultSink<T> : IResultSink
{
    private readonly RemoteFuture<T>[] _futures;
    private readonly RemoteFunction<T> _first;
    private readonly RemoteFunction<T>[]? _functions;
    private RemoteCall<T>[]? _calls;
    private T _decoded = default!;
    private int _decodedIndex = -1;

    public ResultSink(string jobId, RemoteCall<T>[] calls, DateTimeOffset submitted)
    {
        _calls = calls;
        _first = calls.Length > 0 ? calls[0].Function : null!;
        if (calls.Any(c => !ReferenceEquals(c.Function, _first)))
        {
            _functions = calls.Select(c => c.Function).ToArray();
        }

        _futures = new RemoteFuture<T>[calls.Length];
        for (int i = 0; i < calls.Length; i++)
        {
            _futures[i] = new RemoteFuture<T>(jobId, i, submitted);
        }
    }

    public IReadOnlyList<RemoteFuture<T>> Futures => _futures;

    public int Count => _futures.Length;

    public RemoteFunction First => _first;

    public IReadOnlyList<RemoteFunction> Functions => _functions is null ? [_first] : _functions.Distinct().ToArray();

    public RemoteFunction FunctionOf(int index) => _functions?[index] ?? _first;

    public JobStaging Pack()
    {
        JobStaging staging = JobStaging.Pack(_calls ?? throw new InvalidOperationException("The calls were packed already."));
        _calls = null;
        return staging;
    }

    public void Release() => _calls = null;

    public CallStats StatsOf(int index) => _futures[index].Stats;

    public void UpdateStats(int index, Func<CallStats, CallStats> update) => _futures[index].UpdateStats(update);

    public void MarkRunning(int index) => _futures[index].MarkRunning();

    public void Decode(int index, ReadOnlySpan<byte> payload)
    {
        // Decoded and delivered back to back by the monitor task: one slot, no allocation.
        _decoded = (_functions?[index] ?? _first).DecodeResult(payload);
        _decodedIndex = index;
    }

    public bool TryDeliver(int index)
    {
        if (_decodedIndex != index)
        {
            throw new InvalidOperationException($"Call {index}'s result was not decoded.");
        }

        T value = _decoded;
        _decoded = default!;
        _decodedIndex = -1;
        return _futures[index].TrySucceed(value);
    }

    public bool TryFail(int index, RemoteException error) => _futures[index].TryFail(error);

    public bool TryCancel(int index) => _futures[index].TryCancel();

    public JobUsage Usage()
    {
        int invocations = 0, completed = 0;
        long milliseconds = 0;
        foreach (RemoteFuture<T> future in _futures)
        {
            CallStats stats = future.Stats;
            invocations += stats.AttemptsStarted;
            if (stats.WorkerStart is { } start && stats.WorkerEnd is { } end)
            {
                completed++;
                milliseconds += (long)Math.Ceiling(Math.Max(0, (end - start).TotalMilliseconds));
            }
        }

        return new JobUsage(_futures.Length, invocations, milliseconds, completed);
    }
}
