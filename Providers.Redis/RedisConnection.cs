using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Neutral.Providers.Redis;

/// <summary>
/// One multiplexed connection to a server or cluster, opened at first use: constructing a store does no network I/O.
/// It never gives up on a server that is down or restarting: commands fail (and Neutral retries them) until the
/// connection is back.
/// </summary>
internal sealed class RedisConnection : IDisposable
{
    private readonly ConfigurationOptions _options;
    private readonly Lazy<Task<ConnectionMultiplexer>> _multiplexer;
    // 0 not known yet, 1 one standalone server, 2 anything else (a cluster, replicas): decided once a server answers.
    private volatile int _topology;

    public RedisConnection(ConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        // Reconnect in the background rather than fail the first command for good when the server is down at start.
        _options.AbortOnConnectFail = false;
        Endpoints = string.Join(",", _options.EndPoints.Select(e => e.ToString()));
        _multiplexer = new Lazy<Task<ConnectionMultiplexer>>(ConnectAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Connects in two steps. The first attempt gives up when it cannot connect, so that a refused password fails it
    /// as an authentication failure: StackExchange.Redis remembers that the server refused the credentials and says so
    /// in the error of an attempt that gave up. A connection that keeps retrying in the background reports only its
    /// latest failure instead, and on a loaded machine that was a reconnect that timed out, not the refusal (a CI run of
    /// 2026-12-06). A refused password is final: the task stays faulted, and every command fails with it. Any other
    /// failure (the server down or restarting) falls back to the connection that keeps retrying in the background.
    /// </summary>
    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConfigurationOptions once = _options.Clone();
        once.AbortOnConnectFail = true;
        once.ConnectRetry = 1;
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(once).ConfigureAwait(false);
        }
        catch (RedisConnectionException e) when (!IsAuthenticationFailure(e))
        {
            return await ConnectionMultiplexer.ConnectAsync(_options).ConfigureAwait(false);
        }
    }

    /// <summary>The servers, for messages (never the password).</summary>
    public string Endpoints { get; }

    public async ValueTask<IDatabase> DatabaseAsync()
    {
        Task<ConnectionMultiplexer> connecting = _multiplexer.Value;
        ConnectionMultiplexer multiplexer = connecting.IsCompletedSuccessfully ? connecting.Result : await connecting.ConfigureAwait(false);
        return multiplexer.GetDatabase();
    }

    /// <summary>
    /// Whether every command goes to one server over one connection, in the order sent: known once that server has
    /// answered as a standalone server; until then (or on a cluster) false.
    /// </summary>
    public async ValueTask<bool> IsSingleServerAsync()
    {
        if (_topology != 0)
        {
            return _topology == 1;
        }

        ConnectionMultiplexer multiplexer = await _multiplexer.Value.ConfigureAwait(false);
        IServer[] servers = multiplexer.GetServers();
        if (servers.Length > 1 || (servers.Length == 1 && servers[0].IsConnected))
        {
            _topology = servers.Length == 1 && servers[0].ServerType == ServerType.Standalone ? 1 : 2;
        }

        return _topology == 1;
    }

    /// <summary>The connection itself (for tests and benchmarks: profiling, raw commands).</summary>
    public Task<ConnectionMultiplexer> MultiplexerAsync() => _multiplexer.Value;

    /// <summary>
    /// Whether <paramref name="e"/> says the server refused the credentials. StackExchange.Redis also reports a TLS
    /// handshake that failed (a certificate, a server restarting, a timeout) as an authentication failure: one caused by
    /// the transport is not a refused password.
    /// </summary>
    public static bool IsAuthenticationFailure(Exception e) => !FromTransport(e) && IsRefusal(e);

    private static bool FromTransport(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException or System.IO.IOException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRefusal(Exception e) => e switch
    {
        RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure } => true,
        RedisServerException server => server.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || server.Message.StartsWith("WRONGPASS", StringComparison.Ordinal),
        RedisConnectionException { InnerException: { } inner } => IsRefusal(inner),
        _ => false,
    };

    public void Dispose()
    {
        if (_multiplexer.IsValueCreated)
        {
            // A connect still under way (it may fall back to a second one) is disposed when it ends.
            _ = _multiplexer.Value.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
