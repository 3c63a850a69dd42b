using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Testing;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Neutral.Providers.Redis.Tests;

/// <summary>The store contract on one Redis server.</summary>
public sealed class RedisStoreContractTests(RedisFixture redis) : ObjectStoreContract, IClassFixture<RedisFixture>
{
    protected override IObjectStore Store => redis.Store;
}

/// <summary>The store contract on a three-node Redis Cluster: an object and its folder's index share a slot, folders spread.</summary>
public sealed class RedisClusterStoreContractTests(RedisClusterFixture redis) : ObjectStoreContract, IClassFixture<RedisClusterFixture>
{
    protected override IObjectStore Store => redis.Store;

    [Fact]
    public async Task Folders_spread_over_the_nodes_and_a_listing_crosses_them()
    {
        const int Folders = 64;
        await Task.WhenAll(Enumerable.Range(0, Folders).Select(i => redis.Store.PutAsync($"spread/{i:D3}/status", Encoding.UTF8.GetBytes("s" + i))));
        ConnectionMultiplexer multiplexer = await redis.Store.Connection.MultiplexerAsync();
        var nodes = new HashSet<string>();
        for (int i = 0; i < Folders; i++)
        {
            nodes.Add(multiplexer.GetServer(redis.Store.Layout.Value($"spread/{i:D3}/", "status")).EndPoint.ToString()!);
        }

        Assert.Equal(3, nodes.Count);
        var listed = await redis.Store.ListAsync("spread/").ToListAsync();
        Assert.Equal(Enumerable.Range(0, Folders).Select(i => $"spread/{i:D3}/status"), listed.Select(o => o.Key));
        Assert.Equal(Folders, await redis.Store.DeletePrefixAsync("spread/"));
    }

    [Fact]
    public Task Large_writes_racing_a_prefix_delete_across_nodes_leave_every_surviving_object_listed() =>
        RedisRaces.WritesRacingPrefixDeletesAsync(redis.Store, "race-cluster/", 16 * 1024);
}

/// <summary>Writes into fresh folders racing deletes of their prefix, on any topology.</summary>
internal static class RedisRaces
{
    public static async Task WritesRacingPrefixDeletesAsync(RedisObjectStore store, string prefix, int size)
    {
        // Whatever the interleaving, an object that exists after the race can be listed (and so deleted later).
        byte[] data = new byte[size];
        IDatabase db = await store.Connection.DatabaseAsync();
        for (int round = 0; round < 5; round++)
        {
            string root = $"{prefix}{round}/";
            Task writes = Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => store.PutAsync($"{root}f{i % 7}/o{i}", data))));
            Task deletes = Task.Run(async () =>
            {
                for (int d = 0; d < 5; d++)
                {
                    await store.DeletePrefixAsync(root);
                }
            });
            await Task.WhenAll(writes, deletes);

            var existing = new List<string>();
            for (int i = 0; i < 200; i++)
            {
                string key = $"{root}f{i % 7}/o{i}";
                var (folder, name) = RedisLayout.Split(key);
                if (await db.KeyExistsAsync(store.Layout.Value(folder, name)))
                {
                    existing.Add(key);
                }
            }

            // Listed from the store's root, so every folder on the way must be reachable.
            var listed = await store.ListAsync("").ToListAsync();
            Assert.Equal(existing.Order(StringComparer.Ordinal), listed.Select(o => o.Key).Where(k => k.StartsWith(root, StringComparison.Ordinal)));
            Assert.Equal(existing.Count, await store.DeletePrefixAsync(root));
        }
    }
}

/// <summary>What the redis store adds to the contract: listing cost, folder bookkeeping, limits, errors.</summary>
public sealed class RedisStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Listing_a_prefix_reads_only_the_indexes_under_it_never_the_keyspace()
    {
        // 2,000 objects elsewhere, 30 under the prefix (in two folders).
        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => redis.Store.PutAsync($"cost/other/{i % 50}/{i}", Bytes("x"))));
        await Task.WhenAll(Enumerable.Range(0, 30).Select(i => redis.Store.PutAsync($"cost/mine/{i % 2}/{i:D2}", Bytes("yy"))));

        ConnectionMultiplexer multiplexer = await redis.Store.Connection.MultiplexerAsync();
        var session = new ProfilingSession();
        multiplexer.RegisterProfiler(() => session);
        try
        {
            var listed = await redis.Store.ListAsync("cost/mine/").ToListAsync();
            Assert.Equal(30, listed.Count);
            Assert.All(listed, o => Assert.Equal(2, o.Size));
        }
        finally
        {
            multiplexer.RegisterProfiler(() => null);
        }

        string[] commands = session.FinishProfiling().Select(c => c.Command).ToArray();
        Assert.DoesNotContain(commands, c => c is "SCAN" or "KEYS");
        // One index read per folder (cost/mine/, 0/, 1/) and one size per object.
        Assert.Equal(3, commands.Count(c => c == "ZRANGEBYLEX"));
        Assert.Equal(30, commands.Count(c => c == "STRLEN"));
        Assert.Equal(33, commands.Length);
    }

    [Fact]
    public async Task Folders_pages_and_names_that_extend_each_other_list_in_byte_order()
    {
        // More entries than one index page, and names where a folder and a file share a start.
        string[] keys =
        [
            .. Enumerable.Range(0, 2_345).Select(i => $"order/big/{i:D5}"),
            "order/a", "order/a-b", "order/a.txt", "order/a/x", "order/a/y/z", "order/ab",
        ];
        await Task.WhenAll(keys.Select(k => redis.Store.PutAsync(k, Bytes(k))));
        var listed = await redis.Store.ListAsync("order/").ToListAsync();
        Assert.Equal(keys.Order(StringComparer.Ordinal), listed.Select(o => o.Key));
        Assert.Equal(["order/a", "order/a-b", "order/a.txt", "order/a/x", "order/a/y/z", "order/ab"], (await redis.Store.ListAsync("order/a").ToListAsync()).Select(o => o.Key));
        Assert.Equal(keys.Length, await redis.Store.DeletePrefixAsync("order/"));
    }

    [Fact]
    public async Task Deleting_a_folder_removes_its_entry_from_its_parent()
    {
        await redis.Store.PutAsync("gone/jobs/j1/calls/000000/status", Bytes("s"));
        await redis.Store.PutAsync("gone/jobs/j2/input.bin", Bytes("i"));
        Assert.Equal(1, await redis.Store.DeletePrefixAsync("gone/jobs/j1/"));

        IDatabase db = await redis.Store.Connection.DatabaseAsync();
        RedisValue[] jobs = await db.SortedSetRangeByValueAsync(redis.Store.Layout.Index("gone/jobs/"), order: Order.Ascending);
        Assert.Equal(["j2/"], jobs.Select(v => (string)v!));
        Assert.False(await db.KeyExistsAsync(redis.Store.Layout.Index("gone/jobs/j1/")));
        Assert.False(await db.KeyExistsAsync(redis.Store.Layout.Index("gone/jobs/j1/calls/000000/")));

        // A write into the deleted folder makes it reachable again.
        await redis.Store.PutAsync("gone/jobs/j1/late", Bytes("l"));
        Assert.Equal(["gone/jobs/j1/late", "gone/jobs/j2/input.bin"], (await redis.Store.ListAsync("gone/").ToListAsync()).Select(o => o.Key));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16 * 1024)] // above the script's limit: written by MULTI, the folder's entry checked after
    public Task Writes_racing_a_prefix_delete_leave_every_surviving_object_listed(int size) =>
        RedisRaces.WritesRacingPrefixDeletesAsync(redis.Store, $"race{size}/", size);

    [Fact]
    public async Task An_object_over_512_MiB_is_refused_naming_the_key_before_anything_is_sent()
    {
        var data = new ReadOnlyMemory<byte>(new byte[RedisObjectStore.MaxObjectBytes + 1]);
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => redis.Store.PutAsync("huge/blob", data));
        Assert.Contains("'huge/blob'", error.Message, StringComparison.Ordinal);
        Assert.Contains("512 MiB", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => redis.Store.TryCreateAsync("huge/blob", data));
        Assert.Null(await redis.Store.GetAsync("huge/blob"));
    }

    [Fact]
    public async Task Large_objects_take_the_path_that_sends_their_bytes_once_and_ranges_read_inside_them()
    {
        byte[] data = new byte[3 << 20];
        new Random(7).NextBytes(data);
        ConnectionMultiplexer multiplexer = await redis.Store.Connection.MultiplexerAsync();
        var session = new ProfilingSession();
        multiplexer.RegisterProfiler(() => session);
        try
        {
            await redis.Store.PutAsync("large/fresh/input.bin", data);
            Assert.True(await redis.Store.TryCreateAsync("large/fresh/other.bin", data));
        }
        finally
        {
            multiplexer.RegisterProfiler(() => null);
        }

        // No script (it would copy the bytes twice on the server): one MULTI (profiled as its EXEC) per object, the
        // bytes sent once, each followed by a check of its folder's entry; the new folder's ancestry added once.
        var commands = session.FinishProfiling().Select(c => c.Command).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["EXEC", "EXEC", "ZADD", "ZADD", "ZSCORE", "ZSCORE"], commands);
        Assert.Equal(["large/fresh/input.bin", "large/fresh/other.bin"], (await redis.Store.ListAsync("").ToListAsync()).Select(o => o.Key).Where(k => k.StartsWith("large/", StringComparison.Ordinal)));
        Assert.Equal(data.AsSpan(1_000_000, 4096).ToArray(), await redis.Store.GetRangeAsync("large/fresh/input.bin", 1_000_000, 4096));
        Assert.Equal(data, await redis.Store.GetAsync("large/fresh/other.bin"));
    }

    [Fact]
    public async Task An_empty_object_is_told_from_a_missing_one_by_ranged_reads()
    {
        await redis.Store.PutAsync("empty/e", ReadOnlyMemory<byte>.Empty);
        Assert.Equal(Array.Empty<byte>(), await redis.Store.GetRangeAsync("empty/e", 0, 10));
        Assert.Equal(Array.Empty<byte>(), await redis.Store.GetRangeAsync("empty/e", 0, 0));
        Assert.Null(await redis.Store.GetRangeAsync("empty/missing", 0, 0));
        Assert.Null(await redis.Store.GetRangeAsync("empty/missing", 0, 10));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => redis.Store.GetRangeAsync("empty/e", -1, 10));
    }

    [Fact]
    public async Task Keys_holding_braces_and_unicode_keep_their_folder_in_one_slot_and_round_trip()
    {
        string[] keys = ["brace/{tag}/x", "brace/a}b/{c", "brace/Ünïcødé/ü", "brace/{}/empty-tag"];
        foreach (string key in keys)
        {
            await redis.Store.PutAsync(key, Bytes(key));
            Assert.Equal(Bytes(key), await redis.Store.GetAsync(key));
            Assert.False(await redis.Store.TryCreateAsync(key, Bytes("again")));
            var (folder, name) = RedisLayout.Split(key);
            Assert.Equal(HashSlot(redis.Store.Layout.Value(folder, name)), HashSlot(redis.Store.Layout.Index(folder)));
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), (await redis.Store.ListAsync("brace/").ToListAsync()).Select(o => o.Key));
        Assert.Equal(keys.Length, await redis.Store.DeletePrefixAsync("brace/"));
    }

    [Fact]
    public void A_key_prefix_with_a_brace_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisObjectStore(ConfigurationOptions.Parse(RedisServers.OneServer), "a{b}:"));
        Assert.Contains("hash tag", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key, modulo 16384.</summary>
    private static int HashSlot(RedisKey key)
    {
        byte[] bytes = key!;
        int open = Array.IndexOf(bytes, (byte)'{');
        if (open >= 0)
        {
            int close = Array.IndexOf(bytes, (byte)'}', open + 1);
            if (close > open + 1)
            {
                bytes = bytes[(open + 1)..close];
            }
        }

        int crc = 0;
        foreach (byte b in bytes)
        {
            crc ^= b << 8;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
        }

        return (crc & 0xFFFF) % 16384;
    }
}

/// <summary>A server that requires a password: refused without it, the password never in a message.</summary>
public sealed class RedisPasswordTests(RedisPasswordFixture redis) : IClassFixture<RedisPasswordFixture>
{
    [Fact]
    public async Task With_the_password_the_store_works()
    {
        await redis.Store.PutAsync("auth/a", Encoding.UTF8.GetBytes("a"));
        Assert.Equal(Encoding.UTF8.GetBytes("a"), await redis.Store.GetAsync("auth/a"));
    }

    [Fact]
    public async Task A_wrong_password_is_an_unauthorized_error_that_names_the_setting_and_never_the_password()
    {
        const string Wrong = "not-the-password-5c2e";
        var options = ConfigurationOptions.Parse(RedisServers.WithPassword);
        options.Password = Wrong;
        // The refusal ends the connect at once; a generous bound only keeps a loaded machine from timing it out first.
        options.ConnectTimeout = 30_000;
        using var store = new RedisObjectStore(options, RedisServers.NewKeyPrefix());
        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.PutAsync("denied/x", Encoding.UTF8.GetBytes("x")));
        Assert.Contains("Neutral:Redis:Password", error.Message, StringComparison.Ordinal);
        Assert.Contains(RedisServers.WithPassword, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Wrong, error.Message, StringComparison.Ordinal);

        // Final: the next command fails the same way at once, without another connect.
        var again = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.GetAsync("denied/x"));
        Assert.Contains("Neutral:Redis:Password", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_TLS_handshake_that_failed_is_not_taken_for_a_refused_password()
    {
        // StackExchange.Redis reports both as AuthenticationFailure; only the server's refusal is final.
        var refused = new RedisConnectionException(ConnectionFailureType.AuthenticationFailure, CommandFlags.None, "It was not possible to connect",
            new RedisServerException(RedisErrorKind.WrongPass, CommandFlags.None, "WRONGPASS invalid username-password pair or user is disabled."));
        var handshake = new RedisConnectionException(ConnectionFailureType.AuthenticationFailure, CommandFlags.None, "It was not possible to connect",
            new System.Security.Authentication.AuthenticationException("The remote certificate is invalid"));
        var cutOff = new RedisConnectionException(ConnectionFailureType.AuthenticationFailure, CommandFlags.None, "It was not possible to connect",
            new System.IO.IOException("Unable to read data from the transport connection"));
        Assert.True(RedisConnection.IsAuthenticationFailure(refused));
        Assert.False(RedisConnection.IsAuthenticationFailure(handshake));
        Assert.False(RedisConnection.IsAuthenticationFailure(cutOff));
        Assert.True(RedisConnection.IsAuthenticationFailure(new RedisServerException(RedisErrorKind.NoAuth, CommandFlags.None, "NOAUTH Authentication required.")));
    }

    [Fact]
    public async Task A_wrong_password_fails_the_connection_check_with_the_unauthorized_error()
    {
        var options = ConfigurationOptions.Parse(RedisServers.WithPassword);
        options.Password = "not-the-password-91ab";
        options.ConnectTimeout = 30_000;
        using var store = new RedisObjectStore(options, RedisServers.NewKeyPrefix());
        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.ConnectAsync());
        Assert.Contains("refused the password while trying to connect (", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// A server that is not running when the store first connects: commands fail with a connection error that Neutral
/// retries (not the refused-password error), and the store connects once the server is up.
/// </summary>
public sealed class RedisLateServerTests
{
    [Fact]
    public async Task A_store_made_while_its_server_is_down_connects_once_the_server_starts()
    {
        int port = FreePort();
        var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        options.ConnectTimeout = 1_000;
        options.SyncTimeout = 2_000;
        options.AsyncTimeout = 2_000;
        using var store = new RedisObjectStore(options, RedisServers.NewKeyPrefix());

        Exception down = await Assert.ThrowsAnyAsync<Exception>(() => store.PutAsync("late/x", Encoding.UTF8.GetBytes("x")));
        Assert.True(down is RedisConnectionException or RedisTimeoutException, $"a connection error, not {down.GetType().Name}: {down.Message}");

        string? binary = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator)
            .Select(folder => System.IO.Path.Combine(folder, "redis-server")).FirstOrDefault(System.IO.File.Exists);
        Assert.True(binary is not null, "redis-server is not on PATH: this test starts a server of its own (scripts/services.sh installs Debian's redis-server)");
        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(binary!)
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            // The multiplexer reconnects in the background; commands fail until it has (bounded: 60 tries of 2 s at most).
            Exception? last = null;
            for (int i = 0; i < 60; i++)
            {
                try
                {
                    await store.PutAsync("late/x", Encoding.UTF8.GetBytes("x"));
                    last = null;
                    break;
                }
                catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
                {
                    last = e;
                    await Task.Delay(500);
                }
            }

            Assert.Null(last);
            Assert.Equal(Encoding.UTF8.GetBytes("x"), await store.GetAsync("late/x"));
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
