using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

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

    /// <summary>Every call's state and statistics.</summary>
    CallRecords Records { get; }

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

/// <summary>
/// The results of a job whose calls return <typeparamref name="T"/>: one array of values, the calls' states and
/// statistics packed (<see cref="CallRecords"/>), failures by call, and futures made only when the application asks for
/// one (<see cref="Future"/>), each completed from here as its call ends.
/// </summary>
internal sealed class ResultSink<T> : IResultSink
{
    private readonly T[] _results;
    private readonly RemoteFunction<T> _first;
    private readonly RemoteFunction<T>[]? _functions;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, RemoteException> _failures = new();
    private RemoteFuture<T>?[]? _futures;
    private RemoteCall<T>[]? _calls;
    private T _decoded = default!;
    private int _decodedIndex = -1;

    public ResultSink(string jobId, RemoteCall<T>[] calls, DateTimeOffset submitted)
    {
        JobId = jobId;
        _calls = calls;
        _first = calls.Length > 0 ? calls[0].Function : null!;
        if (calls.Any(c => !ReferenceEquals(c.Function, _first)))
        {
            _functions = calls.Select(c => c.Function).ToArray();
        }

        _results = new T[calls.Length];
        Records = new CallRecords(calls.Length, submitted);
    }

    public string JobId { get; }

    public CallRecords Records { get; }

    public int Count => _results.Length;

    public RemoteFunction First => _first;

    public IReadOnlyList<RemoteFunction> Functions => _functions is null ? [_first] : _functions.Distinct().ToArray();

    public RemoteFunction FunctionOf(int index) => _functions?[index] ?? _first;

    public RemoteCallState StateOf(int index) => Records.StateOf(index);

    public CallStats StatsOf(int index) => Records.StatsOf(index);

    /// <summary>Call <paramref name="index"/>'s result; meaningful once its state is <see cref="RemoteCallState.Succeeded"/>.</summary>
    public T ResultOf(int index) => _results[index];

    public RemoteException? FailureOf(int index) => _failures.TryGetValue(index, out RemoteException? error) ? error : null;

    /// <summary>Call <paramref name="index"/>'s future, made on first use and completed at once when the call has ended.</summary>
    public RemoteFuture<T> Future(int index)
    {
        RemoteFuture<T>?[] futures = Volatile.Read(ref _futures)
            ?? Interlocked.CompareExchange(ref _futures, new RemoteFuture<T>?[_results.Length], null)
            ?? _futures!;
        if (Volatile.Read(ref futures[index]) is { } known)
        {
            return known;
        }

        var made = new RemoteFuture<T>(this, index);
        RemoteFuture<T> future = Interlocked.CompareExchange(ref futures[index], made, null) ?? made;

        // The call may have ended before the future was published: then no one else completes it.
        future.Complete();
        return future;
    }

    public JobStaging Pack()
    {
        JobStaging staging = JobStaging.Pack(_calls ?? throw new InvalidOperationException("The calls were packed already."));
        _calls = null;
        return staging;
    }

    public void Release() => _calls = null;

    public void MarkRunning(int index) => Records.MarkRunning(index);

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
        if (Records.StateOf(index) is not (RemoteCallState.Pending or RemoteCallState.Running))
        {
            return false;
        }

        // The value before the state: whoever sees the state final reads the value.
        _results[index] = value;
        return End(index, RemoteCallState.Succeeded);
    }

    public bool TryFail(int index, RemoteException error)
    {
        if (Records.StateOf(index) is not (RemoteCallState.Pending or RemoteCallState.Running))
        {
            return false;
        }

        _failures[index] = error;
        return End(index, RemoteCallState.Failed);
    }

    public bool TryCancel(int index) => End(index, RemoteCallState.Cancelled);

    /// <summary>The state made final first, then a future made meanwhile completed (its task's continuations see the final state).</summary>
    private bool End(int index, RemoteCallState final)
    {
        if (!Records.TryClaim(index, final))
        {
            return false;
        }

        if (Volatile.Read(ref _futures) is { } futures && Volatile.Read(ref futures[index]) is { } future)
        {
            future.Complete();
        }

        return true;
    }

    public JobUsage Usage() => Records.Usage();
}
