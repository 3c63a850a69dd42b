using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Neutral.Providers.Redis.Tests;

/// <summary>The Redis servers of scripts/services.sh, by the variables it prints (defaults: its ports).</summary>
public static class RedisServers
{
    public static string OneServer => Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS") ?? "127.0.0.1:6390";

    public static string Restartable => Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS_RESTARTABLE") ?? "127.0.0.1:6391";

    public static string Cluster => Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS_CLUSTER") ?? "127.0.0.1:6392,127.0.0.1:6393,127.0.0.1:6394";

    public static string WithPassword => Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS_AUTH") ?? "127.0.0.1:6395";

    /// <summary>The throwaway password of <see cref="WithPassword"/>.</summary>
    public static string Password => Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS_PASSWORD") ?? "NEUTRALTESTREDISPASSWORD";

    /// <summary>The server that speaks only TLS, as a configuration string (its certificate names localhost and 127.0.0.1).</summary>
    public static string Tls => (Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS_TLS") ?? "127.0.0.1:6396") + ",ssl=true,sslHost=localhost";

    /// <summary>The throwaway CA that signed <see cref="Tls"/>'s certificate.</summary>
    public static string TlsCertificateAuthority => Environment.GetEnvironmentVariable("NEUTRAL_TEST_REDIS_TLS_CA")
        ?? System.IO.Path.Combine(Environment.GetEnvironmentVariable("NEUTRAL_SERVICES_DIR") ?? ".services", "redis", "tls", "ca.crt");

    /// <summary>A key prefix of a test's own, so that tests sharing a server never see each other's keys.</summary>
    public static string NewKeyPrefix() => "t" + Guid.NewGuid().ToString("N")[..10] + ":";
}

/// <summary>A store on one server under a key prefix of its own, emptied at the end.</summary>
public class RedisFixture : IAsyncLifetime
{
    public RedisFixture()
        : this(RedisServers.OneServer)
    {
    }

    protected RedisFixture(string configuration, string? password = null)
    {
        Configuration = configuration;
        Password = password;
        var options = ConfigurationOptions.Parse(configuration);
        options.Password = password;
        Store = new RedisObjectStore(options, KeyPrefix);
    }

    /// <summary>The server or cluster, as a configuration string without the password.</summary>
    public string Configuration { get; }

    public string? Password { get; }

    public string KeyPrefix { get; } = RedisServers.NewKeyPrefix();

    public RedisObjectStore Store { get; }

    /// <summary>Configuration with the <c>Neutral:Redis</c> section for this fixture, plus <paramref name="values"/> (later ones win).</summary>
    public IConfiguration NeutralConfiguration(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string?>
        {
            ["Neutral:Storage"] = RedisProvider.StoreKind,
            ["Neutral:Redis:Configuration"] = Configuration,
            ["Neutral:Redis:KeyPrefix"] = KeyPrefix,
        };
        if (Password is not null)
        {
            all["Neutral:Redis:Password"] = Password;
        }

        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(all).Build();
    }

    public Task InitializeAsync() => Store.ConnectAsync();

    public async Task DisposeAsync()
    {
        await Store.DeletePrefixAsync("");
        Store.Dispose();
    }
}

/// <summary>A store on the three-node Redis Cluster.</summary>
public sealed class RedisClusterFixture : RedisFixture
{
    public RedisClusterFixture()
        : base(RedisServers.Cluster)
    {
    }
}

/// <summary>A store on the server that requires a password.</summary>
public sealed class RedisPasswordFixture : RedisFixture
{
    public RedisPasswordFixture()
        : base(RedisServers.WithPassword, RedisServers.Password)
    {
    }
}

/// <summary>A store on the restartable server (append-only file), which one test restarts mid-job.</summary>
public sealed class RedisRestartableFixture : RedisFixture
{
    public RedisRestartableFixture()
        : base(RedisServers.Restartable)
    {
    }
}

/// <summary>
/// A store on the TLS server. Its CA is trusted as a user would trust a private one, by configuration alone:
/// StackExchange.Redis's <c>SERedis_IssuerCertPath</c> variable, set for this process and so for its worker processes.
/// </summary>
public sealed class RedisTlsFixture : RedisFixture
{
    public RedisTlsFixture()
        : base(TrustingTheCa())
    {
    }

    private static string TrustingTheCa()
    {
        Environment.SetEnvironmentVariable("SERedis_IssuerCertPath", RedisServers.TlsCertificateAuthority);
        return RedisServers.Tls;
    }
}
