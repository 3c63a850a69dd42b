using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Codec;

namespace Neutral.Dispatch;

/// <summary>
/// The process-wide registry of generated dispatch tables, and the helpers generated dispatch code calls.
/// Each assembly with <see cref="RemoteAttribute">[Remote]</see> methods registers its table from a module initializer.
/// </summary>
public static class RemoteDispatch
{
    private static readonly ConcurrentDictionary<string, (IRemoteDispatcher Dispatcher, ulong Hash, string? Assembly, RemoteFunctionInfo Info)> s_functions = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Lazy<Task<object?>>> s_shared = new(StringComparer.Ordinal);
    private static readonly List<IRemoteDispatcher> s_dispatchers = [];
    private static readonly ConcurrentDictionary<string, int> s_fetches = new(StringComparer.Ordinal);

    /// <summary>Registers a generated dispatch table (called by generated module initializers).</summary>
    /// <exception cref="InvalidOperationException">Another table already registered one of its ids with another hash.</exception>
    public static void Register(IRemoteDispatcher dispatcher)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        lock (s_dispatchers)
        {
            s_dispatchers.Add(dispatcher);
        }

        string? assembly = AssemblyName(dispatcher);
        foreach (RemoteFunctionInfo function in dispatcher.Functions)
        {
            var entry = (dispatcher, function.SignatureHash, assembly, function);
            var existing = s_functions.GetOrAdd(function.Id, entry);
            if (!ReferenceEquals(existing.Dispatcher, dispatcher) && existing.Hash != function.SignatureHash)
            {
                throw new InvalidOperationException(
                    $"Two assemblies define remote function '{function.Id}' with different signatures ({existing.Hash:x16} and {function.SignatureHash:x16}). Give one of them an explicit [Remote(Id = ...)].");
            }
        }
    }

    /// <summary>The registered dispatch tables, in registration order (a worker host loads the same assemblies).</summary>
    public static IReadOnlyList<IRemoteDispatcher> Dispatchers
    {
        get
        {
            lock (s_dispatchers)
            {
                return s_dispatchers.ToArray();
            }
        }
    }

    /// <summary>Every function registered in this process, in ordinal id order.</summary>
    public static IReadOnlyList<RemoteFunctionInfo> Functions =>
        s_functions.Select(pair => pair.Value.Info).OrderBy(f => f.Id, StringComparer.Ordinal).ToArray();

    /// <summary>Runs a call through whichever registered table has its function.</summary>
    /// <exception cref="StaleWorkerException">No table has the function, or not with this hash.</exception>
    public static ValueTask InvokeAsync(string functionId, ulong signatureHash, ReadOnlyMemory<byte> arguments, RemoteContext context, IBufferWriter<byte> result) =>
        InvokeAsync(functionId, signatureHash, assembly: null, arguments, context, result);

    /// <summary>
    /// Runs a call through whichever registered table has its function; <paramref name="assembly"/> names the assembly
    /// that defines it in the client (<see cref="AssemblyOf"/>), so that a missing table is told apart from a stale one.
    /// </summary>
    /// <exception cref="MissingDispatchTableException">No table of <paramref name="assembly"/> is registered in this process.</exception>
    /// <exception cref="StaleWorkerException">That assembly's table does not have the function, or not with this hash.</exception>
    public static ValueTask InvokeAsync(string functionId, ulong signatureHash, string? assembly, ReadOnlyMemory<byte> arguments, RemoteContext context, IBufferWriter<byte> result)
    {
        ArgumentNullException.ThrowIfNull(functionId);
        if (!s_functions.TryGetValue(functionId, out var entry))
        {
            if (assembly is not null && !Dispatchers.Any(d => AssemblyName(d) == assembly))
            {
                throw new MissingDispatchTableException(functionId, assembly);
            }

            throw new StaleWorkerException(functionId, signatureHash, null);
        }

        return entry.Dispatcher.InvokeAsync(functionId, signatureHash, arguments, context, result);
    }

    /// <summary>
    /// The simple name of the assembly whose registered table has <paramref name="functionId"/>, or
    /// <see langword="null"/> when none has it. Clients put it in the envelope.
    /// </summary>
    public static string? AssemblyOf(string functionId) =>
        s_functions.TryGetValue(functionId, out var entry) ? entry.Assembly : null;

    private static string? AssemblyName(IRemoteDispatcher dispatcher) => dispatcher.GetType().Assembly.GetName().Name;

    /// <summary>The exception a generated table throws for a function it does not have or has in another version.</summary>
    public static StaleWorkerException Stale(string functionId, ulong requestedHash, ulong? knownHash) =>
        new(functionId, requestedHash, knownHash);

    /// <summary>
    /// Resolves a <see cref="Shared{T}"/> argument: fetches and decodes its value from the job's internal storage
    /// once per process, then serves it from memory.
    /// </summary>
    public static async ValueTask ResolveAsync<T>(Shared<T> shared, RemoteContext context, CodecRead<T> read)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(context);
        if (shared.IsResolved)
        {
            return;
        }

        // Lazy: concurrent first calls in one process share one fetch.
        Lazy<Task<object?>> lazy = s_shared.GetOrAdd(shared.Key, static (key, state) => new Lazy<Task<object?>>(() => FetchAsync(key, state.context, state.read)), (context, read));
        Task<object?> fetch = lazy.Value;
        object? value;
        try
        {
            value = await fetch.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (fetch.IsFaulted || fetch.IsCanceled)
        {
            // A failed fetch is not cached: the next call tries again.
            s_shared.TryRemove(new KeyValuePair<string, Lazy<Task<object?>>>(shared.Key, lazy));
            throw;
        }

        shared.Resolve((T)value!);
    }

    private static async Task<object?> FetchAsync<T>(string key, RemoteContext context, CodecRead<T> read)
    {
        s_fetches.AddOrUpdate(key, 1, static (_, n) => n + 1);
        byte[]? bytes = await context.InternalStorage.GetAsync(key, CancellationToken.None).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Shared value '{key}' is missing from storage: it was deleted, or the job's data was cleaned before the call ran.");
        return Decode(bytes, key, read);
    }

    private static object? Decode<T>(byte[] bytes, string key, CodecRead<T> read)
    {
        var reader = new CodecReader(bytes);
        try
        {
            T value = read(ref reader);
            reader.EnsureEnd();
            return value;
        }
        catch (CodecException e)
        {
            throw e.ForFunction($"shared value '{key}'");
        }
    }

    /// <summary>How many times this process fetched the shared value at <paramref name="key"/> from storage (once, unless a fetch failed).</summary>
    public static int SharedFetchCount(string key) => s_fetches.TryGetValue(key, out int count) ? count : 0;
}
