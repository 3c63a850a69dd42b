using System;
using System.Collections;
using System.Linq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace Neutral;

/// <summary>
/// Where a configuration value came from, for error messages: the JSON file, the environment variable (its exact
/// name), in-memory configuration, or the provider otherwise. Only an <see cref="IConfigurationRoot"/> (which a
/// <c>ConfigurationManager</c> is) can tell; other configuration gives <see langword="null"/>.
/// </summary>
internal static class ConfigurationOrigin
{
    /// <summary>The origin of <paramref name="key"/>'s value: the last provider that has the key, as the root's indexer reads it.</summary>
    public static string? Of(IConfiguration? configuration, string key)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return null;
        }

        IConfigurationProvider[] providers = root.Providers.ToArray();
        for (int i = providers.Length - 1; i >= 0; i--)
        {
            if (providers[i].TryGet(key, out string? value))
            {
                return Describe(providers[i], key, value);
            }
        }

        return null;
    }

    /// <summary>
    /// Names the origin of the value an error is about, when <paramref name="configuration"/> holds that value at that
    /// key (so a value set in code after reading is never blamed on a file).
    /// </summary>
    public static void Name(NeutralConfigurationException error, IConfiguration? configuration)
    {
        if (error.Origin is null && configuration is not null && configuration[error.Key] is { } text
            && string.Equals(text.Trim(), error.Value?.Trim(), StringComparison.OrdinalIgnoreCase)
            && Of(configuration, error.Key) is { } origin)
        {
            error.NameOrigin(origin);
        }
    }

    /// <summary>The full path of a configuration file.</summary>
    public static string FilePath(FileConfigurationSource source)
    {
        string path = source.Path ?? string.Empty;
        return source.FileProvider?.GetFileInfo(path).PhysicalPath ?? path;
    }

    private static string Describe(IConfigurationProvider provider, string key, string? value) => provider switch
    {
        FileConfigurationProvider file => "the file " + FilePath(file.Source),
        EnvironmentVariablesConfigurationProvider => "the environment variable " + Variable(key, value),
        ChainedConfigurationProvider chained => Of(chained.Configuration, key) ?? "chained configuration",
        MemoryConfigurationProvider => "in-memory configuration",
        _ => provider.ToString() ?? provider.GetType().Name,
    };

    /// <summary>
    /// The variable that set <paramref name="key"/>. The provider keeps neither the variable's name nor its prefix, so
    /// this finds the variable whose name, with <c>__</c> read as <c>:</c>, ends with the key and whose value is the
    /// one read: the shortest such name (unprefixed <c>NEUTRAL__LOCAL__WORKERS</c> before <c>MYAPP_NEUTRAL__...</c>).
    /// </summary>
    private static string Variable(string key, string? value)
    {
        string? best = null;
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && string.Equals(entry.Value as string, value, StringComparison.Ordinal)
                && name.Replace("__", ":", StringComparison.Ordinal).EndsWith(key, StringComparison.OrdinalIgnoreCase)
                && (best is null || name.Length < best.Length || (name.Length == best.Length && string.CompareOrdinal(name, best) < 0)))
            {
                best = name;
            }
        }

        // Changed since the configuration was built: the conventional spelling.
        return best ?? key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();
    }
}
