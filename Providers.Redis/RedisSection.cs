using System;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Neutral.Providers.Redis;

/// <summary>
/// The <c>Neutral:Redis</c> section read and checked once: <c>Configuration</c> (a StackExchange.Redis configuration
/// string: one server, or several nodes of a cluster, with <c>ssl=true</c>, <c>user=</c>, <c>defaultDatabase=</c> and
/// the rest of its options), <c>Password</c> (overrides the string's <c>password=</c>; set it with
/// <c>NEUTRAL__REDIS__PASSWORD</c>), <c>KeyPrefix</c> (default <c>neutral:</c>). A wrong value fails naming its key,
/// never echoing a password.
/// </summary>
internal sealed partial class RedisSection
{
    private RedisSection(IConfiguration section, string prefix)
    {
        string text = ProviderSettings.Required(section, prefix, "Configuration", "the server or cluster as a StackExchange.Redis configuration string, e.g. 127.0.0.1:6379, or node1:6379,node2:6379,ssl=true for a cluster over TLS");
        try
        {
            Options = ConfigurationOptions.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new NeutralConfigurationException(prefix + "Configuration", Redact(text), $"it is not a StackExchange.Redis configuration string ({Redact(e.Message)}): host:port[,host:port...][,option=value...].", e);
        }

        if (Options.EndPoints.Count == 0)
        {
            throw new NeutralConfigurationException(prefix + "Configuration", Redact(text), "it names no server: give host:port (several, comma-separated, for a cluster).");
        }

        if (section["Password"] is { Length: > 0 } password)
        {
            Options.Password = password;
        }

        KeyPrefix = section["KeyPrefix"] ?? RedisProvider.DefaultKeyPrefix;
        if (!KeyPrefixPattern().IsMatch(KeyPrefix))
        {
            throw new NeutralConfigurationException(prefix + "KeyPrefix", KeyPrefix, "it must be at most 64 letters, digits and ':', '_', '-', '.' (no '{' or '}', which Redis Cluster reads as a hash tag), e.g. neutral: or myapp:neutral:.");
        }

        Prefix = prefix;
    }

    /// <summary><c>Neutral:Redis:</c>, for error keys.</summary>
    public string Prefix { get; }

    /// <summary>The server or cluster, with the password when one is set.</summary>
    public ConfigurationOptions Options { get; }

    /// <summary>What every key Neutral writes starts with.</summary>
    public string KeyPrefix { get; }

    /// <summary>Reads <c>Redis</c> under <paramref name="neutral"/> (the <c>Neutral</c> section).</summary>
    public static RedisSection Read(IConfiguration neutral) =>
        new(neutral.GetSection(RedisProvider.Section), NeutralConfiguration.Section + ":" + RedisProvider.Section + ":");

    /// <summary><paramref name="text"/> with the value of any <c>password=</c> hidden.</summary>
    internal static string Redact(string text) => PasswordPattern().Replace(text, "$1(hidden)");

    [GeneratedRegex("^[A-Za-z0-9:_.-]{0,64}$")]
    private static partial Regex KeyPrefixPattern();

    [GeneratedRegex("((?:^|,)\\s*password\\s*=)[^,]*", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordPattern();
}
