using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Threading;

namespace Neutral;

/// <summary>
/// What a running remote call knows about itself. Declare a parameter of this type on a
/// <see cref="RemoteAttribute">[Remote]</see> method to receive it; the generated stub omits it.
/// </summary>
public sealed class RemoteContext
{
    /// <summary>Creates a context (the worker does this for each call).</summary>
    /// <param name="storage">The user key space of the job's object store.</param>
    /// <param name="jobId">The job's id.</param>
    /// <param name="callIndex">The call's index in the job.</param>
    /// <param name="attempt">The attempt number, 1 for the first.</param>
    /// <param name="log">Where <see cref="Log"/> writes; <see cref="TextWriter.Null"/> when omitted.</param>
    /// <param name="internalStorage">The job's internal key space, where shared values live; defaults to <paramref name="storage"/>.</param>
    /// <param name="cancellationToken">Fires when the call is cancelled or its deadline passes.</param>
    public RemoteContext(
        IObjectStore storage,
        string jobId,
        int callIndex,
        int attempt,
        TextWriter? log = null,
        IObjectStore? internalStorage = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentOutOfRangeException.ThrowIfNegative(callIndex);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        Storage = storage;
        JobId = jobId;
        CallIndex = callIndex;
        Attempt = attempt;
        Log = log ?? TextWriter.Null;
        CancellationToken = cancellationToken;
        InternalStorage = internalStorage ?? storage;
    }

    /// <summary>The object store, in the same user key space as <c>Cloud.Storage</c>.</summary>
    public IObjectStore Storage { get; }

    /// <summary>The job's id.</summary>
    public string JobId { get; }

    /// <summary>The call's index in the job (0-based).</summary>
    public int CallIndex { get; }

    /// <summary>The attempt number: 1 for the first attempt, higher for retries and speculative backups.</summary>
    public int Attempt { get; }

    /// <summary>Fires when the call is cancelled or its deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The call's log (its console output goes here too), captured (bounded) into its status and read as <c>RemoteFuture.Stats.Log</c>.</summary>
    public TextWriter Log { get; }

    /// <summary>The job's internal key space (shared values); for generated code and workers.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IObjectStore InternalStorage { get; }

    /// <summary>
    /// The job's other stores by name (<c>Neutral:Stores:{name}</c>), each as its whole store (user and internal space);
    /// set by the worker.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IReadOnlyDictionary<string, IObjectStore>? NamedStores { get; init; }

    /// <summary>The user key space of the store named <paramref name="name"/> in <c>Neutral:Stores</c> (as <c>Cloud.StorageOf</c> sees it).</summary>
    /// <exception cref="InvalidOperationException">The job has no store of that name.</exception>
    public IObjectStore StorageOf(string name) => new Storage.UserObjectStore(Named(name), Wire.StorageLayout.InternalPrefix);

    /// <summary>The internal key space of the store named <paramref name="name"/>; for shuffles and workers.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IObjectStore InternalStorageOf(string name) => new Storage.PrefixedObjectStore(Named(name), Wire.StorageLayout.InternalPrefix);

    private IObjectStore Named(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return NamedStores is not null && NamedStores.TryGetValue(name, out IObjectStore? store) ? store
            : throw new InvalidOperationException(
                $"This call's job has no store named '{name}' (it has {(NamedStores is { Count: > 0 } ? string.Join(", ", NamedStores.Keys) : "none")}). Name it in the client's configuration: Neutral:Stores:{name}:Kind (redis, s3, ...).");
    }
}
