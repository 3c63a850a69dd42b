using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;
using StackExchange.Redis;

namespace Neutral.Providers.Redis;

/// <summary>
/// Neutral's object store on Redis: a single server or a Redis Cluster. Each object is a Redis string; each folder of
/// the key space keeps a sorted-set index of its entries, so a listing costs in proportion to what is under the
/// prefix, never to the whole database (no <c>KEYS</c>, no <c>SCAN</c>). Create-only writes are <c>SET NX</c>, ranged
/// reads <c>GETRANGE</c>; an object and its index entry are written atomically (a Lua script, or <c>MULTI</c> for larger objects).
/// </summary>
/// <remarks>
/// <para>
/// Limits: an object holds at most <see cref="MaxObjectBytes"/> (a Redis string's 512 MiB); a larger one is refused
/// with an <see cref="ArgumentOutOfRangeException"/> naming the key. The server must not evict or expire Neutral's
/// keys (<c>maxmemory-policy noeviction</c>, the default). Listings are in the byte order of the keys' UTF-8, as S3's.
/// </para>
/// <para>
/// Errors: a refused password is <see cref="UnauthorizedAccessException"/> (a retry cannot help); a lost connection,
/// a timeout or a server that is loading its data surface as StackExchange.Redis's exceptions, which Neutral's
/// executor retries. Messages name the server, never the password.
/// </para>
/// </remarks>
public sealed class RedisObjectStore : IObjectStore, IBulkDeletingObjectStore, IDisposable
{
    /// <summary>The largest object a Redis string holds (<c>proto-max-bulk-len</c>'s default, 512 MiB).</summary>
    public const int MaxObjectBytes = 512 * 1024 * 1024;

    /// <summary>Entries read from an index per request.</summary>
    private const int Page = 1000;

    /// <summary>
    /// Objects up to this size are written by a Lua script, larger ones by <c>MULTI</c>: a script copies its
    /// argument into a Lua string and again into Redis's, which halved 32 KiB writes (bench/README.md).
    /// </summary>
    private const int ScriptLimit = 8 * 1024;

    // KEYS[1] the object, KEYS[2] its folder's index; ARGV[1] the bytes, ARGV[2] the name.
    // The "existing" scripts write only into a folder whose index exists: then its entries up to the root exist too
    // (see AddAncestryAsync), and the write is one round trip. Otherwise they answer 0 / -1 and write nothing.
    private static readonly RedisScript PutExisting = new("""
        if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('ZADD', KEYS[2], 0, ARGV[2])
        return 1
        """);

    private static readonly RedisScript PutAnyway = new("""
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('ZADD', KEYS[2], 0, ARGV[2])
        return 1
        """);

    private static readonly RedisScript CreateExisting = new("""
        if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
        if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
          redis.call('ZADD', KEYS[2], 0, ARGV[2])
          return 1
        end
        return 0
        """);

    private static readonly RedisScript CreateAnyway = new("""
        if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
          redis.call('ZADD', KEYS[2], 0, ARGV[2])
          return 1
        end
        return 0
        """);

    // KEYS[1] the object, KEYS[2] its folder's index; ARGV[1] the name.
    private static readonly RedisScript Remove = new("""
        local n = redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return n
        """);

    private readonly RedisConnection _connection;
    private readonly RedisLayout _layout;
    private readonly bool _ownsConnection;

    /// <summary>Creates a store over <paramref name="options"/> (a copy is used), its keys under <paramref name="keyPrefix"/>.</summary>
    /// <param name="options">The server or cluster (StackExchange.Redis options: endpoints, password, TLS, database).</param>
    /// <param name="keyPrefix">What every key this store writes starts with (no '{' or '}'), e.g. <c>neutral:</c>.</param>
    public RedisObjectStore(ConfigurationOptions options, string keyPrefix = RedisProvider.DefaultKeyPrefix)
        : this(new RedisConnection(options), keyPrefix, ownsConnection: true)
    {
    }

    internal RedisObjectStore(RedisConnection connection, string keyPrefix, bool ownsConnection)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        _connection = connection;
        _layout = new RedisLayout(keyPrefix);
        _ownsConnection = ownsConnection;
    }

    /// <summary>What every key this store writes starts with.</summary>
    public string KeyPrefix => _layout.KeyPrefix;

    /// <summary>The connection (for tests and benchmarks).</summary>
    internal RedisConnection Connection => _connection;

    /// <summary>The key layout (for tests and benchmarks).</summary>
    internal RedisLayout Layout => _layout;

    /// <summary>Connects (once) and checks that the server answers; throws the connection's error.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await Call(db.PingAsync(), "reach the server", "").ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(key, data, createOnly: false, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(key, data, createOnly: true, cancellationToken);

    /// <summary>
    /// Writes an object and its index entry atomically, and makes sure its folder is reachable from the root.
    /// A small object goes through one Lua script that writes only into a folder whose index exists (one round trip);
    /// a larger one through <c>MULTI</c> (a script would copy its bytes twice on the server), then a check of the
    /// folder's entry in its parent.
    /// </summary>
    private async Task<bool> WriteAsync(string key, ReadOnlyMemory<byte> data, bool createOnly, CancellationToken cancellationToken)
    {
        var (folder, name) = Object(key, data.Length);
        string operation = createOnly ? "create" : "write";
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        RedisKey value = _layout.Value(folder, name);
        RedisKey index = _layout.Index(folder);
        if (data.Length > ScriptLimit)
        {
            return await TransactAsync(db, folder, value, index, name, data, createOnly, operation, key).ConfigureAwait(false);
        }

        RedisKey[] keys = [value, index];
        RedisValue[] args = [data, name];
        int done = (int)await Call((createOnly ? CreateExisting : PutExisting).EvaluateAsync(db, keys, args), operation, key).ConfigureAwait(false);
        if (done >= 0 && (createOnly || done == 1))
        {
            return done == 1;
        }

        // A new folder (its index did not exist): make it reachable, write, and again after the write: a prefix
        // delete that removed the folder's entry meanwhile has put it back only if it saw the object.
        await AddAncestryAsync(db, folder, key).ConfigureAwait(false);
        bool written = (int)await Call((createOnly ? CreateAnyway : PutAnyway).EvaluateAsync(db, keys, args), operation, key).ConfigureAwait(false) == 1;
        await AddAncestryAsync(db, folder, key).ConfigureAwait(false);
        return written;
    }

    /// <summary>
    /// Writes a larger object and its index entry in one <c>MULTI</c>, then checks its folder's entry in the parent
    /// and adds the ancestry when it is missing. The check follows the write, as a prefix delete's re-check follows
    /// its removal (<see cref="UnlinkAsync"/>), so one of the two always sees the other. On one server the check is
    /// pipelined behind the write (one connection keeps their order); on a cluster the parent's index may be on
    /// another node, so the check waits for the write.
    /// </summary>
    private async Task<bool> TransactAsync(IDatabase db, string folder, RedisKey value, RedisKey index, string name, ReadOnlyMemory<byte> data, bool createOnly, string operation, string key)
    {
        ITransaction transaction = db.CreateTransaction();
        Task<bool> set = transaction.StringSetAsync(value, data, when: createOnly ? When.NotExists : When.Always);
        // Indexed whether or not SET NX wrote: an object that exists is indexed by the write that created it.
        _ = transaction.SortedSetAddAsync(index, name, 0);
        Task<bool> executed = transaction.ExecuteAsync();
        Task<double?>? linked = null;
        (string parent, string entry) = folder.Length == 0 ? ("", "") : RedisLayout.Parent(folder);
        if (folder.Length > 0 && await _connection.IsSingleServerAsync().ConfigureAwait(false))
        {
            linked = db.SortedSetScoreAsync(_layout.Index(parent), entry);
        }

        await Call(executed, operation, key).ConfigureAwait(false);
        bool written = await Call(set, operation, key).ConfigureAwait(false);
        if (folder.Length > 0)
        {
            linked ??= db.SortedSetScoreAsync(_layout.Index(parent), entry);
            if (await Call(linked, operation, key).ConfigureAwait(false) is null)
            {
                await AddAncestryAsync(db, folder, key).ConfigureAwait(false);
            }
        }

        return written;
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        var (folder, name) = RedisLayout.Split(key);
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        RedisValue value = await Call(db.StringGetAsync(_layout.Value(folder, name)), "read", key).ConfigureAwait(false);
        return value.IsNull ? null : (byte[]?)value ?? [];
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var (folder, name) = RedisLayout.Split(key);
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        RedisKey value = _layout.Value(folder, name);
        if (length > 0)
        {
            RedisValue bytes = await Call(db.StringGetRangeAsync(value, offset, offset + length - 1), "read", key).ConfigureAwait(false);
            if (bytes.Length() > 0)
            {
                return (byte[]?)bytes;
            }
        }

        // GETRANGE answers "" for a missing key as for a range past the end: only then ask which it was.
        return await Call(db.KeyExistsAsync(value), "read", key).ConfigureAwait(false) ? [] : null;
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        var (folder, name) = RedisLayout.Split(key);
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        return (int)await Call(Remove.EvaluateAsync(db, [_layout.Value(folder, name), _layout.Index(folder)], [name]), "delete", key).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        var (folder, start) = RedisLayout.Split(prefix);
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await foreach (ObjectInfo info in ListFolderAsync(db, folder, start, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    /// <inheritdoc/>
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        var (folder, start) = RedisLayout.Split(prefix);
        IDatabase db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        int deleted = await DeleteFolderAsync(db, folder, start, cancellationToken).ConfigureAwait(false);
        if (start.Length == 0 && folder.Length > 0)
        {
            // The whole folder went: its entry in its parent goes too.
            await UnlinkAsync(db, folder).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <summary>Closes the connection, when this store opened it.</summary>
    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>The entries of <paramref name="folder"/> whose names start with <paramref name="start"/>, a page at a time, in byte order.</summary>
    private async IAsyncEnumerable<RedisValue> EntriesAsync(IDatabase db, string folder, string start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RedisKey index = _layout.Index(folder);
        RedisValue min = start.Length == 0 ? default : (RedisValue)start;
        RedisValue max = default;
        if (start.Length > 0)
        {
            // Every UTF-8 string that starts with `start` sorts at or below `start` followed by 0xFF (no UTF-8 byte is 0xFF).
            byte[] upper = new byte[Encoding.UTF8.GetByteCount(start) + 1];
            Encoding.UTF8.GetBytes(start, upper);
            upper[^1] = 0xFF;
            max = upper;
        }

        Exclude exclude = Exclude.None;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RedisValue[] page = await Call(db.SortedSetRangeByValueAsync(index, min, max, exclude, Order.Ascending, 0, Page), "list", folder + start).ConfigureAwait(false);
            foreach (RedisValue entry in page)
            {
                yield return entry;
            }

            if (page.Length < Page)
            {
                yield break;
            }

            min = page[^1];
            exclude = Exclude.Start;
        }
    }

    private async IAsyncEnumerable<ObjectInfo> ListFolderAsync(IDatabase db, string folder, string start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batch = new List<(string Name, Task<long>? Size)>(Page);
        await foreach (RedisValue entry in EntriesAsync(db, folder, start, cancellationToken).ConfigureAwait(false))
        {
            string name = entry!;
            // Sizes are asked for a page at a time, pipelined: one round trip per page, not per object.
            batch.Add((name, name.EndsWith('/') ? null : db.StringLengthAsync(_layout.Value(folder, name))));
            if (batch.Count == Page)
            {
                await foreach (ObjectInfo info in FlushAsync(db, folder, batch, cancellationToken).ConfigureAwait(false))
                {
                    yield return info;
                }
            }
        }

        await foreach (ObjectInfo info in FlushAsync(db, folder, batch, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    private async IAsyncEnumerable<ObjectInfo> FlushAsync(IDatabase db, string folder, List<(string Name, Task<long>? Size)> batch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        (string Name, Task<long>? Size)[] entries = [.. batch];
        batch.Clear();
        foreach (var (name, size) in entries)
        {
            if (size is null)
            {
                // A sub-folder: its keys sort exactly where its entry does among its siblings.
                await foreach (ObjectInfo info in ListFolderAsync(db, folder + name, "", cancellationToken).ConfigureAwait(false))
                {
                    yield return info;
                }
            }
            else
            {
                yield return new ObjectInfo(folder + name, await Call(size, "list", folder).ConfigureAwait(false));
            }
        }
    }

    private async Task<int> DeleteFolderAsync(IDatabase db, string folder, string start, CancellationToken cancellationToken)
    {
        int deleted = 0;
        var names = new List<string>(Page);
        var folders = new List<string>();
        // Collected first: deleting while paging would move the page boundaries under the reader.
        await foreach (RedisValue entry in EntriesAsync(db, folder, start, cancellationToken).ConfigureAwait(false))
        {
            string name = entry!;
            (name.EndsWith('/') ? folders : names).Add(name);
        }

        RedisKey index = _layout.Index(folder);
        for (int i = 0; i < names.Count; i += Page)
        {
            var removals = new List<Task<RedisResult>>(Page);
            for (int j = i; j < Math.Min(names.Count, i + Page); j++)
            {
                removals.Add(Remove.EvaluateAsync(db, [_layout.Value(folder, names[j]), index], [names[j]]));
            }

            foreach (Task<RedisResult> removal in removals)
            {
                deleted += (int)await Call(removal, "delete everything under", folder + start).ConfigureAwait(false);
            }
        }

        foreach (string sub in folders)
        {
            deleted += await DeleteFolderAsync(db, folder + sub, "", cancellationToken).ConfigureAwait(false);
            await UnlinkAsync(db, folder + sub).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <summary>
    /// Removes <paramref name="folder"/>'s entry from its parent, then puts it back if the folder has gained an
    /// object meanwhile (a write racing the delete): a folder with objects is always reachable from the root.
    /// </summary>
    private async Task UnlinkAsync(IDatabase db, string folder)
    {
        var (parent, entry) = RedisLayout.Parent(folder);
        await Call(db.SortedSetRemoveAsync(_layout.Index(parent), entry), "delete everything under", folder).ConfigureAwait(false);
        if (await Call(db.KeyExistsAsync(_layout.Index(folder)), "delete everything under", folder).ConfigureAwait(false))
        {
            await Call(db.SortedSetAddAsync(_layout.Index(parent), entry, 0), "delete everything under", folder).ConfigureAwait(false);
        }
    }

    /// <summary>Adds the entries from the root down to <paramref name="folder"/> (idempotent), all at once.</summary>
    private async Task AddAncestryAsync(IDatabase db, string folder, string key)
    {
        var adds = new List<Task<bool>>();
        foreach (var (parent, entry) in RedisLayout.Ancestry(folder))
        {
            adds.Add(db.SortedSetAddAsync(_layout.Index(parent), entry, 0));
        }

        foreach (Task<bool> add in adds)
        {
            await Call(add, "write", key).ConfigureAwait(false);
        }
    }

    private static (string Folder, string Name) Object(string key, int length)
    {
        ObjectKeys.Validate(key);
        if (length > MaxObjectBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(key), length,
                $"Object '{key}' is {length:N0} bytes; a Redis string holds at most 512 MiB. Keep objects this large in the job's main store (s3, azureblob, minio, local) and put intermediate data on Redis in smaller parts.");
        }

        return RedisLayout.Split(key);
    }

    private ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ValueTask<IDatabase> database = _connection.DatabaseAsync();
        return database.IsCompletedSuccessfully ? database : Connecting(database);

        async ValueTask<IDatabase> Connecting(ValueTask<IDatabase> pending)
        {
            try
            {
                return await pending.ConfigureAwait(false);
            }
            catch (Exception e) when (RedisConnection.IsAuthenticationFailure(e))
            {
                throw Refused(e, "connect", "");
            }
        }
    }

    /// <summary>Awaits a command, turning a refused password into <see cref="UnauthorizedAccessException"/> naming what to fix.</summary>
    private async Task<T> Call<T>(Task<T> command, string operation, string key)
    {
        try
        {
            return await command.ConfigureAwait(false);
        }
        catch (Exception e) when (RedisConnection.IsAuthenticationFailure(e))
        {
            throw Refused(e, operation, key);
        }
    }

    private UnauthorizedAccessException Refused(Exception e, string operation, string key) => new(
        $"Redis at {_connection.Endpoints} refused the password while trying to {operation}{(key.Length == 0 ? "" : $" '{key}'")} ({e.Message}). Check Neutral:Redis:Password (NEUTRAL__REDIS__PASSWORD) or the configuration string's password=.", e);
}
