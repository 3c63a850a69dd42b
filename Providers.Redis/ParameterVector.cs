using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using StackExchange.Redis;

namespace Neutral.Providers.Redis;

/// <summary>
/// What a call needs to open a <see cref="ParameterVector{T}"/>: pass it as an argument of a <c>[Remote]</c> method.
/// </summary>
/// <param name="Name">The vector's name (letters, digits, '-', '_', '.'), unique in its store.</param>
/// <param name="Length">How many elements.</param>
/// <param name="ShardLength">Elements per shard: each shard is one Redis key, so a cluster spreads a large vector.</param>
/// <param name="Store">The named store (<c>Neutral:Stores:{name}</c>) holding it, or null for the job's store.</param>
public sealed record ParameterVectorInfo(string Name, int Length, int ShardLength, string? Store);

/// <summary>What <see cref="ParameterVector{T}.ReadAsync"/> returns: the values and the version they were read at.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <param name="Values">The elements (each shard read as one value: shards may be of versions a few adds apart).</param>
/// <param name="Version">How many adds had completed when the read began.</param>
public sealed record ParameterSnapshot<T>(T[] Values, long Version);

/// <summary>
/// A parameter server on Redis: a vector of <see cref="float"/> or <see cref="double"/> that many calls read and add to
/// at once (HOGWILD!-style asynchronous SGD), sharded over keys so that a Redis Cluster spreads it.
/// </summary>
/// <remarks>
/// <para>
/// An add is atomic per shard (a Lua script adds the delta to the shard's elements on the server, loaded once and
/// then called by its SHA), and adds from any number of callers sum exactly. A reader gets each shard as it stood
/// at one moment; shards may stand a few adds apart, as HOGWILD! allows. After every shard of an add, the vector's
/// version counter goes up by one.
/// </para>
/// <para>
/// Bounded staleness (stale synchronous parallel): a worker that names itself in <see cref="AddAsync"/> advances its
/// clock; <see cref="ReadBoundedAsync"/> with a worker and a bound <c>k</c> waits while that worker is more than <c>k</c> adds
/// ahead of the slowest worker that has not left (<see cref="LeaveAsync"/>).
/// </para>
/// <para>
/// Adds are not idempotent: a call re-executed after a partial add adds its (new) delta again. Asynchronous SGD
/// tolerates that as it tolerates stale reads; keep exact sums to calls that run once (or to <c>MaxAttempts = 1</c>).
/// </para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ParameterVector<T>
    where T : unmanaged
{
    /// <summary>Elements per shard unless told otherwise.</summary>
    public const int DefaultShardLength = 8192;

    // KEYS[1] the shard; ARGV[1] the delta's bytes; ARGV[2] the element format ('<f' or '<d'); ARGV[3] its width.
    private static readonly RedisScript AddScript = new("""
        local cur = redis.call('GET', KEYS[1])
        local delta = ARGV[1]
        local fmt = ARGV[2]
        local width = tonumber(ARGV[3])
        if not cur or #cur ~= #delta then
          return redis.error_reply('NEUTRAL_SHAPE the shard ' .. KEYS[1] .. ' is missing or of another length')
        end
        local out = {}
        for i = 0, #delta / width - 1 do
          local pos = i * width + 1
          out[i + 1] = struct.pack(fmt, struct.unpack(fmt, cur, pos) + struct.unpack(fmt, delta, pos))
        end
        redis.call('SET', KEYS[1], table.concat(out))
        return 1
        """);

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(100);

    private readonly RedisObjectStore _store;
    private readonly TimeProvider _time;
    private readonly string _format;

    internal ParameterVector(RedisObjectStore store, ParameterVectorInfo info, TimeProvider? time)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"A parameter vector holds float or double, not {typeof(T).Name}.");
        }

        Validate(info);
        _store = store;
        _time = time ?? TimeProvider.System;
        _format = typeof(T) == typeof(float) ? "<f" : "<d";
        Info = info;
    }

    /// <summary>What a call needs to open this vector.</summary>
    public ParameterVectorInfo Info { get; }

    /// <summary>Writes <paramref name="initial"/> and version 0, after deleting a vector of the same name.</summary>
    internal async Task InitializeAsync(ReadOnlyMemory<T> initial, CancellationToken cancellationToken)
    {
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        await DeleteAsync(cancellationToken).ConfigureAwait(false);
        var writes = new List<Task>();
        for (int shard = 0; shard < Shards; shard++)
        {
            writes.Add(db.StringSetAsync(ShardKey(shard), Bytes(Slice(initial, shard))));
        }

        writes.Add(db.StringSetAsync(VersionKey, 0));
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>How many adds have completed.</summary>
    public async Task<long> VersionAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        return (long)await db.StringGetAsync(VersionKey).ConfigureAwait(false);
    }

    /// <summary>Reads the whole vector: every shard at once (pipelined), and the version before them.</summary>
    /// <exception cref="InvalidOperationException">The vector does not exist (deleted, or never created).</exception>
    public async Task<ParameterSnapshot<T>> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        Task<RedisValue> version = db.StringGetAsync(VersionKey);
        var shards = Enumerable.Range(0, Shards).Select(s => db.StringGetAsync(ShardKey(s))).ToArray();
        RedisValue at = await version.ConfigureAwait(false);
        await Task.WhenAll(shards).ConfigureAwait(false);
        var values = new T[Info.Length];
        Span<byte> into = MemoryMarshal.AsBytes(values.AsSpan());
        for (int shard = 0; shard < Shards; shard++)
        {
            byte[]? bytes = shards[shard].Result;
            if (bytes is null || bytes.Length != Math.Min(Info.ShardLength, Info.Length - (shard * Info.ShardLength)) * ElementBytes)
            {
                throw Missing();
            }

            bytes.CopyTo(into[(shard * Info.ShardLength * ElementBytes)..]);
        }

        return at.IsNull ? throw Missing() : new ParameterSnapshot<T>(values, (long)at);
    }

    /// <summary>
    /// Reads the vector once <paramref name="worker"/> is at most <paramref name="maxStaleness"/> adds ahead of the
    /// slowest worker still in (bounded staleness); joins the worker at clock 0 on its first read.
    /// </summary>
    /// <param name="worker">The worker's name (for example its call index), unique among the vector's workers.</param>
    /// <param name="maxStaleness">How many adds a worker may run ahead of the slowest: 0 or more.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    public async Task<ParameterSnapshot<T>> ReadBoundedAsync(string worker, int maxStaleness, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(worker);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStaleness);
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        await db.SortedSetAddAsync(ClocksKey, worker, 0, SortedSetWhen.NotExists).ConfigureAwait(false);
        TimeSpan poll = FirstPoll;
        while (true)
        {
            Task<double?> mine = db.SortedSetScoreAsync(ClocksKey, worker);
            Task<SortedSetEntry[]> slowest = db.SortedSetRangeByRankWithScoresAsync(ClocksKey, 0, 0);
            double clock = await mine.ConfigureAwait(false) ?? 0;
            SortedSetEntry[] lowest = await slowest.ConfigureAwait(false);
            if (lowest.Length == 0 || clock - lowest[0].Score <= maxStaleness)
            {
                return await ReadAsync(cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(poll, _time, cancellationToken).ConfigureAwait(false);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, LongestPoll.Ticks));
        }
    }

    /// <summary>
    /// Adds <paramref name="delta"/> to the vector, element by element, atomically per shard, then counts one version;
    /// with <paramref name="worker"/>, also advances that worker's clock. Returns the version after this add.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="delta"/> is not the vector's length.</exception>
    /// <exception cref="InvalidOperationException">The vector does not exist.</exception>
    public async Task<long> AddAsync(ReadOnlyMemory<T> delta, string? worker = null, CancellationToken cancellationToken = default)
    {
        if (delta.Length != Info.Length)
        {
            throw new ArgumentException($"The delta has {delta.Length} elements; the vector '{Info.Name}' has {Info.Length}.", nameof(delta));
        }

        cancellationToken.ThrowIfCancellationRequested();
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        var adds = new Task<RedisResult>[Shards];
        for (int shard = 0; shard < Shards; shard++)
        {
            adds[shard] = AddScript.EvaluateAsync(db, [ShardKey(shard)], [Bytes(Slice(delta, shard)), _format, ElementBytes]);
        }

        try
        {
            await Task.WhenAll(adds).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("NEUTRAL_SHAPE", StringComparison.Ordinal))
        {
            throw Missing(e);
        }

        Task<long> version = db.StringIncrementAsync(VersionKey);
        if (worker is not null)
        {
            await db.SortedSetIncrementAsync(ClocksKey, worker, 1).ConfigureAwait(false);
        }

        return await version.ConfigureAwait(false);
    }

    /// <summary>Takes <paramref name="worker"/> out of the staleness bound (it has finished): the others no longer wait for it.</summary>
    public async Task LeaveAsync(string worker, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(worker);
        cancellationToken.ThrowIfCancellationRequested();
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        await db.SortedSetRemoveAsync(ClocksKey, worker).ConfigureAwait(false);
    }

    /// <summary>Deletes the vector (its shards, version and clocks).</summary>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IDatabase db = await _store.Connection.DatabaseAsync().ConfigureAwait(false);
        // One key at a time: on a cluster the shards live on different nodes.
        await Task.WhenAll(Enumerable.Range(0, Shards).Select(s => db.KeyDeleteAsync(ShardKey(s)))
            .Append(db.KeyDeleteAsync(VersionKey)).Append(db.KeyDeleteAsync(ClocksKey))).ConfigureAwait(false);
    }

    private int Shards => Math.Max(1, (Info.Length + Info.ShardLength - 1) / Info.ShardLength);

    private static int ElementBytes => typeof(T) == typeof(float) ? sizeof(float) : sizeof(double);

    // Each shard its own hash tag, so a cluster spreads them; none starts with '/', so none meets an object's key.
    private RedisKey ShardKey(int shard) => $"{_store.KeyPrefix}{{ps:{Info.Name}:{shard}}}";

    private RedisKey VersionKey => $"{_store.KeyPrefix}{{ps:{Info.Name}}}version";

    private RedisKey ClocksKey => $"{_store.KeyPrefix}{{ps:{Info.Name}}}clocks";

    private ReadOnlyMemory<T> Slice(ReadOnlyMemory<T> values, int shard)
    {
        int start = shard * Info.ShardLength;
        return values.Slice(start, Math.Min(Info.ShardLength, values.Length - start));
    }

    private static byte[] Bytes(ReadOnlyMemory<T> values) => MemoryMarshal.AsBytes(values.Span).ToArray();

    private InvalidOperationException Missing(Exception? inner = null) =>
        new($"The parameter vector '{Info.Name}' does not exist in this Redis store (or has another length): create it with ParameterVector.CreateAsync first.", inner);

    private static void Validate(ParameterVectorInfo info)
    {
        if (string.IsNullOrEmpty(info.Name) || info.Name.Length > 200 || info.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new ArgumentException($"A parameter vector's name is 1 to 200 ASCII letters, digits, '-', '_' or '.': '{info.Name}' is not.", nameof(info));
        }

        if (info.Length < 1)
        {
            throw new ArgumentException($"A parameter vector has at least one element ('{info.Name}' has {info.Length}).", nameof(info));
        }

        if (info.ShardLength is < 1 or > RedisObjectStore.MaxObjectBytes / sizeof(double))
        {
            throw new ArgumentException($"A shard holds 1 to {RedisObjectStore.MaxObjectBytes / sizeof(double):N0} elements ('{info.Name}': {info.ShardLength}).", nameof(info));
        }
    }
}

/// <summary>Creates and opens <see cref="ParameterVector{T}"/>s: the parameter server on a Redis store.</summary>
public static class ParameterVector
{
    /// <summary>
    /// Creates the vector <paramref name="name"/> in <paramref name="store"/> (a Redis store, as <c>Cloud.StorageOf</c>
    /// or <c>RemoteContext.StorageOf</c> give it) with <paramref name="initial"/> values and version 0, replacing one of
    /// that name.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="store"/> is not on Redis, or the name or lengths are out of range.</exception>
    public static async Task<ParameterVector<T>> CreateAsync<T>(IObjectStore store, string name, ReadOnlyMemory<T> initial, int shardLength = ParameterVector<T>.DefaultShardLength, string? storeName = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        var vector = new ParameterVector<T>(RedisOf(store), new ParameterVectorInfo(name, initial.Length, shardLength, storeName), time);
        await vector.InitializeAsync(initial, cancellationToken).ConfigureAwait(false);
        return vector;
    }

    /// <summary>Opens the vector <paramref name="info"/> names (made by <see cref="CreateAsync"/>) in <paramref name="store"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="store"/> is not on Redis, or <paramref name="info"/> is out of range.</exception>
    public static ParameterVector<T> Open<T>(IObjectStore store, ParameterVectorInfo info, TimeProvider? time = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(info);
        return new ParameterVector<T>(RedisOf(store), info, time);
    }

    /// <summary>Opens the vector <paramref name="info"/> names in the store it names, from inside a call.</summary>
    public static ParameterVector<T> Open<T>(RemoteContext context, ParameterVectorInfo info)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(info);
        return Open<T>(info.Store is null ? context.Storage : context.StorageOf(info.Store), info);
    }

    private static RedisObjectStore RedisOf(IObjectStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return ObjectStores.Find<RedisObjectStore>(store)
            ?? throw new ArgumentException($"A parameter vector lives on Redis: this store is not one ({store.GetType().Name}). Name a Redis store, e.g. Neutral:Stores:params:Kind=redis, and use Cloud.StorageOf(\"params\") / RemoteContext.StorageOf(\"params\").", nameof(store));
    }
}
