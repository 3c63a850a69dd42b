using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

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

    /// <summary>
    /// Records that call <paramref name="index"/>'s result stays in storage at <paramref name="key"/> (the job feeds
    /// other calls): <see cref="TryDeliver"/> then ends the call without a value, which is read when the application asks.
    /// </summary>
    void Defer(int index, string key);

    /// <summary>Completes call <paramref name="index"/>'s future with the result <see cref="Decode"/> just decoded (or <see cref="Defer"/> left in storage).</summary>
    bool TryDeliver(int index);

    /// <summary>Who reads the job's data from other calls (<see cref="JobHolds"/>).</summary>
    JobHolds Holds { get; }

    /// <summary>Reads a result left in storage (<see cref="Defer"/>); set by the job's runner.</summary>
    Func<string, Task<byte[]?>>? Loader { get; set; }

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
    private string? _decodedKey;
    private System.Collections.Concurrent.ConcurrentDictionary<int, string>? _deferred;
    private System.Collections.Concurrent.ConcurrentDictionary<int, Lazy<Task<T>>>? _loads;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _lost = new();

    public ResultSink(string jobId, RemoteCall<T>[] calls, DateTimeOffset submitted, JobHolds holds)
    {
        JobId = jobId;
        Holds = holds;
        _calls = calls;
        _first = calls.Length > 0 ? calls[0].Function : null!;
        if (calls.Any(c => !ReferenceEquals(c.Function, _first)))
        {
            _functions = calls.Select(c => c.Function).ToArray();
        }

        _results = new T[calls.Length];
        Records = new CallRecords(calls.Length, submitted);
    }

    /// <summary>
    /// The results of a job another client submitted (<c>Cloud.AttachAsync</c>): its calls are in storage. One function
    /// for every call, or one per call.
    /// </summary>
    public ResultSink(string jobId, int count, RemoteFunction<T>[] functions, DateTimeOffset submitted, JobHolds holds)
    {
        JobId = jobId;
        Holds = holds;
        _first = functions[0];
        if (functions.Length > 1)
        {
            _functions = functions;
        }

        _results = new T[count];
        Records = new CallRecords(count, submitted);
    }

    public string JobId { get; }

    public JobHolds Holds { get; }

    public Func<string, Task<byte[]?>>? Loader { get; set; }

    public CallRecords Records { get; }

    public int Count => _results.Length;

    public RemoteFunction First => _first;

    public IReadOnlyList<RemoteFunction> Functions => _functions is null ? [_first] : _functions.Distinct().ToArray();

    public RemoteFunction FunctionOf(int index) => _functions?[index] ?? _first;

    public RemoteCallState StateOf(int index) => Records.StateOf(index);

    public CallStats StatsOf(int index) => Records.StatsOf(index);

    /// <summary>
    /// Call <paramref name="index"/>'s result; meaningful once its state is <see cref="RemoteCallState.Succeeded"/>. A
    /// result left in storage (<see cref="Defer"/>) is read first, blocking: prefer <see cref="LoadAsync"/>.
    /// </summary>
    public T ResultOf(int index) => IsDeferred(index) ? LoadAsync(index).GetAwaiter().GetResult() : _results[index];

    /// <summary>Whether call <paramref name="index"/> succeeded with a result this client has not read (it feeds other calls).</summary>
    public bool IsDeferred(int index) => Volatile.Read(ref _deferred) is { } deferred && deferred.ContainsKey(index);

    /// <summary>The result, when the call succeeded and this client holds it (not left in storage).</summary>
    public bool TryGetHeld(int index, out T value)
    {
        if (Records.StateOf(index) == RemoteCallState.Succeeded && !IsDeferred(index))
        {
            value = _results[index];
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Reads call <paramref name="index"/>'s result left in storage, once however often it is asked for.</summary>
    /// <exception cref="InvalidOperationException">The job's data was deleted before the result was read.</exception>
    public Task<T> LoadAsync(int index)
    {
        if (!IsDeferred(index))
        {
            return System.Threading.Tasks.Task.FromResult(_results[index]);
        }

        var loads = Volatile.Read(ref _loads) ?? Interlocked.CompareExchange(ref _loads, new(), null) ?? _loads!;
        return loads.GetOrAdd(index, i => new Lazy<Task<T>>(() => ReadDeferredAsync(i))).Value;
    }

    /// <summary>Reads every result left in storage (for <see cref="RemoteJob{T}.GetResultsAsync"/>), a few at a time.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _deferred) is not { IsEmpty: false } deferred)
        {
            return;
        }

        await Parallel.ForEachAsync(deferred.Keys.ToArray(), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (index, _) => await LoadAsync(index).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private async Task<T> ReadDeferredAsync(int index)
    {
        try
        {
            string key = _deferred![index];
            byte[]? bytes = await (Loader ?? throw new InvalidOperationException("The job has no store to read results from.")).Invoke(key).ConfigureAwait(false);
            if (bytes is null)
            {
                // For good (asking again gives the same error): nothing holds the job for this result any more.
                if (_lost.TryAdd(index, true))
                {
                    Holds.Release();
                }

                throw new InvalidOperationException(
                    $"Call {index} of job {JobId} succeeded, and its result '{key}' was left in storage for the calls that took it as an argument, but the job's data was deleted before this client read it: "
                    + "the Cloud was disposed, or the job's data removed from outside. Read results before disposing the Cloud.");
            }

            T value = (_functions?[index] ?? _first).DecodeResult(bytes);
            _results[index] = value;
            _deferred.TryRemove(index, out _);
            Holds.Release();
            return value;
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            // A read that failed (the store, not the data) is not kept: the next ask reads again.
            _loads!.TryRemove(index, out _);
            throw;
        }
    }

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

    public void Defer(int index, string key)
    {
        _decoded = default!;
        _decodedKey = key;
        _decodedIndex = index;
    }

    public bool TryDeliver(int index)
    {
        if (_decodedIndex != index)
        {
            throw new InvalidOperationException($"Call {index}'s result was not decoded.");
        }

        T value = _decoded;
        string? key = _decodedKey;
        _decoded = default!;
        _decodedKey = null;
        _decodedIndex = -1;
        if (Records.StateOf(index) is not (RemoteCallState.Pending or RemoteCallState.Running))
        {
            return false;
        }

        // The value (or where it is) before the state: whoever sees the state final reads the value.
        if (key is not null)
        {
            // An unread result holds the job's data like a dependent call does: reading it lets go (or disposing the cloud).
            Holds.TryAcquire();
            (Volatile.Read(ref _deferred) ?? Interlocked.CompareExchange(ref _deferred, new(), null) ?? _deferred!)[index] = key;
        }
        else
        {
            _results[index] = value;
        }

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
