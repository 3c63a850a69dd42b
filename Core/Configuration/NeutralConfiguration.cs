using System;
using System.IO;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Neutral;

/// <summary>
/// Reads and checks <see cref="NeutralOptions"/> from configuration, naming the key of anything wrong and where its value
/// came from. Strict: a key under <c>Neutral</c> that is not a setting Neutral knows is an error, with the nearest known
/// key, so a misspelt key never passes as a default.
/// </summary>
public static class NeutralConfiguration
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Neutral";

    /// <summary>
    /// The default configuration: <c>appsettings.json</c> and <c>neutral.json</c> in the working directory (both
    /// optional, the latter winning), then <c>NEUTRAL__*</c> environment variables (e.g. <c>NEUTRAL__COMPUTE=local</c>).
    /// </summary>
    /// <exception cref="NeutralConfigurationException">A file is not valid JSON or cannot be read; the message names the file and line.</exception>
    public static IConfiguration Default() => Default(Directory.GetCurrentDirectory());

    /// <summary>The default configuration with its files read from <paramref name="directory"/>.</summary>
    internal static IConfiguration Default(string directory) =>
        new ConfigurationBuilder()
            .SetBasePath(directory)
            .SetFileLoadExceptionHandler(Unreadable)
            .AddJsonFile("appsettings.json", optional: true, reloadOnChange: false)
            .AddJsonFile("neutral.json", optional: true, reloadOnChange: false)
            // Unprefixed on purpose: NEUTRAL__LOCAL__WORKERS becomes Neutral:Local:Workers, the section's own key.
            .AddEnvironmentVariables()
            .Build();

    /// <summary>
    /// Reads the <c>Neutral</c> section into options. Keys outside the core (a provider's section) are checked at
    /// <c>Cloud.Connect</c>, once every provider has registered.
    /// </summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong, or a key is not one Neutral knows.</exception>
    public static NeutralOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new NeutralOptions();
        IConfigurationSection section = configuration.GetSection(Section);
        options.Configuration = section;
        options.ReadFrom = configuration;
        try
        {
            KnownKeys.Check(section, options.Providers, configuration, complete: false);
            foreach (Setting setting in CoreSettings.All)
            {
                if (section[setting.Key] is { } text)
                {
                    setting.Read(options, text);
                }
            }

            NamedStores.Read(section.GetSection(NamedStores.Section), options.Stores);
            Validate(options);
        }
        catch (NeutralConfigurationException e)
        {
            ConfigurationOrigin.Name(e, configuration);
            throw;
        }

        return options;
    }

    /// <summary>Checks options set in code or read from configuration.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong.</exception>
    public static void Validate(NeutralOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (Setting setting in CoreSettings.All)
        {
            setting.Check(options);
        }

        NamedStores.Check(options);
    }

    /// <summary>
    /// The check at <c>Cloud.Connect</c>, when every provider has registered: the values, and for options read from
    /// configuration every key of the section, providers' sections included. Options set in code have no keys to check.
    /// </summary>
    internal static void CheckAtConnect(NeutralOptions options)
    {
        Validate(options);
        if (options.ReadFrom is not null)
        {
            KnownKeys.Check(options.Configuration, options.Providers, options.ReadFrom, complete: true);
        }
    }

    /// <summary>Turns a file the JSON provider cannot load into an error naming the file and the line.</summary>
    private static void Unreadable(FileLoadExceptionContext context)
    {
        string path = ConfigurationOrigin.FilePath(context.Provider.Source);
        Exception innermost = context.Exception;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }

        string why = innermost is JsonException { LineNumber: long line, BytePositionInLine: long position } json
            // The parser counts lines and bytes from zero; editors count from one.
            ? $"it is not valid JSON at line {line + 1}, position {position + 1}: {WithoutPosition(json.Message)}"
            : innermost.Message;
        throw NeutralConfigurationException.UnreadableFile(path, why, context.Exception);
    }

    // The parser's message ends with its own zero-based " LineNumber: 3 | BytePositionInLine: 2.", replaced above.
    private static string WithoutPosition(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }
}
