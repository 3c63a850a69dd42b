using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Providers;
using Neutral.Providers.Redis;
using Neutral.Storage;
using Neutral.Wire;
using StackExchange.Redis;

[assembly: Neutral.NeutralProvider(typeof(RedisProvider))]

namespace Neutral.Providers.Redis;

/// <summary>
/// Registers what this package brings: the <c>redis</c> store, read from the <c>Neutral:Redis</c> section
/// (<c>Configuration</c>, a StackExchange.Redis configuration string; <c>Password</c>; <c>KeyPrefix</c>). Executables
/// that reference the package call <see cref="Register"/> before <c>Main</c> (the source generator wires it);
/// <c>services.AddNeutral(configuration).AddRedis()</c> is the DI way.
/// </summary>
/// <remarks>
/// Workers find the store by its <see cref="StoreLocation"/>: kind <c>redis</c>, and the configuration string without
/// its password, followed by <c>,keyPrefix=...</c>. A worker reads the password from <see cref="PasswordVariable"/>,
/// which the local pool passes to its processes (and a cloud deployment binds); a worker in the client's own process
/// uses the client's settings.
/// </remarks>
public static class RedisProvider
{
    /// <summary>The store kind, and its name in <c>Neutral:Storage</c>.</summary>
    public const string StoreKind = "redis";

    /// <summary>The configuration section.</summary>
    public const string Section = "Redis";

    /// <summary>The key prefix used when <c>Neutral:Redis:KeyPrefix</c> is left out.</summary>
    public const string DefaultKeyPrefix = "neutral:";

    /// <summary>The variable a worker reads the password from.</summary>
    public const string PasswordVariable = "NEUTRAL__REDIS__PASSWORD";

    /// <summary>The pseudo-option that carries the key prefix in a location (not a StackExchange.Redis option).</summary>
    private const string KeyPrefixOption = "keyPrefix=";

    /// <summary>Options (with the password) of stores this process opened as a client, for workers that run in it (by location).</summary>
    private static readonly ConcurrentDictionary<string, ConfigurationOptions> s_clientStores = new(StringComparer.Ordinal);

    private static readonly ProviderPackage s_package = new ProviderPackage("Neutral.Providers.Redis")
        .Section(Section, "Configuration", "Password", "KeyPrefix")
        .Storage(StoreKind, OpenStore, OpenForWorker)
        .DeployedVariables(StoreKind, DeployedVariables);

    /// <summary>Registers into <see cref="ProviderRegistry.Default"/> (idempotent).</summary>
    public static void Register() => AddTo(ProviderRegistry.Default);

    /// <summary>Registers the package's store and section into <paramref name="registry"/>.</summary>
    public static ProviderRegistry AddTo(ProviderRegistry registry) => s_package.AddTo(registry);

    /// <summary>Registers the worker side (the store kind): runs when a worker loads this assembly.</summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "A worker loads this assembly to open the store kind an envelope names; registering then is the point.")]
    internal static void RegisterWorkerSide() => s_package.RegisterWorkerSide();

    private static StoreConnection OpenStore(ProviderContext context)
    {
        RedisSection redis = RedisSection.Read(context.Configuration);
        var connection = new RedisConnection(redis.Options);
        var store = new RedisObjectStore(connection, redis.KeyPrefix, ownsConnection: true);
        var location = new StoreLocation(StoreKind, LocationOf(redis.Options, redis.KeyPrefix), Cloud.InternalPrefix);
        s_clientStores[location.Bucket] = redis.Options;
        return PreparedStores.Connect(
            store, location, DeployedVariables(redis), static (s, cancellationToken) => s.ConnectAsync(cancellationToken),
            redis.Prefix + "Configuration", connection.Endpoints, "the Redis server could not be used",
            static e => e is UnauthorizedAccessException ? e.Message : $"{e.GetType().Name}: {RedisSection.Redact(e.Message)}");
    }

    /// <summary>What a worker needs to open the configured server: the password, when there is one (local workers and deployed functions alike).</summary>
    private static Dictionary<string, string> DeployedVariables(IConfiguration neutral) => DeployedVariables(RedisSection.Read(neutral));

    private static Dictionary<string, string> DeployedVariables(RedisSection redis) =>
        redis.Options.Password is { Length: > 0 } password
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [PasswordVariable] = password }
            : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The configuration string without its password, then <c>,keyPrefix=</c>: where workers find the store.</summary>
    internal static string LocationOf(ConfigurationOptions options, string keyPrefix)
    {
        // ToString(includePassword: false) writes password=*****, which a worker would send: leave the option out.
        ConfigurationOptions withoutPassword = options.Clone();
        withoutPassword.Password = null;
        return withoutPassword.ToString(includePassword: false) + "," + KeyPrefixOption + keyPrefix;
    }

    /// <summary>Reads <see cref="LocationOf"/> back (without a password).</summary>
    internal static (ConfigurationOptions Options, string KeyPrefix) Parse(string location)
    {
        string[] parts = location.Split(',');
        string? keyPrefix = parts.LastOrDefault(p => p.StartsWith(KeyPrefixOption, StringComparison.Ordinal))?[KeyPrefixOption.Length..];
        if (keyPrefix is null)
        {
            throw new InvalidOperationException($"The redis store location '{RedisSection.Redact(location)}' has no {KeyPrefixOption}: it was not written by this version of Neutral.Providers.Redis.");
        }

        return (ConfigurationOptions.Parse(string.Join(',', parts.Where(p => !p.StartsWith(KeyPrefixOption, StringComparison.Ordinal)))), keyPrefix);
    }

    private static IObjectStore OpenForWorker(StoreLocation location)
    {
        var (options, keyPrefix) = Parse(location.Bucket);
        if (s_clientStores.TryGetValue(location.Bucket, out ConfigurationOptions? known))
        {
            options = known;
        }
        else if (Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password)
        {
            options.Password = password;
        }

        return new RedisObjectStore(options, keyPrefix);
    }
}

/// <summary>Registers the Redis provider with a <see cref="NeutralBuilder"/>.</summary>
public static class RedisNeutralBuilderExtensions
{
    /// <summary>
    /// Adds the <c>redis</c> store to the cloud <c>AddNeutral</c> registers:
    /// <c>services.AddNeutral(configuration).AddRedis()</c>.
    /// </summary>
    public static NeutralBuilder AddRedis(this NeutralBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        RedisProvider.AddTo(builder.Providers);
        return builder;
    }
}
