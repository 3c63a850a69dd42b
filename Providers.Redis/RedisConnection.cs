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

    public RedisConnection(ConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        // Reconnect in the background rather than fail the first command for good when the server is down at start.
        _options.AbortOnConnectFail = false;
        Endpoints = string.Join(",", _options.EndPoints.Select(e => e.ToString()));
        _multiplexer = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(_options), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The servers, for messages (never the password).</summary>
    public string Endpoints { get; }

    public async ValueTask<IDatabase> DatabaseAsync()
    {
        Task<ConnectionMultiplexer> connecting = _multiplexer.Value;
        ConnectionMultiplexer multiplexer = connecting.IsCompletedSuccessfully ? connecting.Result : await connecting.ConfigureAwait(false);
        return multiplexer.GetDatabase();
    }

    /// <summary>The connection itself (for tests and benchmarks: profiling, raw commands).</summary>
    public Task<ConnectionMultiplexer> MultiplexerAsync() => _multiplexer.Value;

    /// <summary>Whether <paramref name="e"/> says the server refused the credentials.</summary>
    public static bool IsAuthenticationFailure(Exception e) => e switch
    {
        RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure } => true,
        RedisServerException server => server.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || server.Message.StartsWith("WRONGPASS", StringComparison.Ordinal),
        RedisConnectionException { InnerException: { } inner } => IsAuthenticationFailure(inner),
        _ => false,
    };

    public void Dispose()
    {
        if (_multiplexer.IsValueCreated && _multiplexer.Value.IsCompletedSuccessfully)
        {
            _multiplexer.Value.Result.Dispose();
        }
    }
}
