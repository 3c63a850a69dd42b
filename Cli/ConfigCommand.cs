using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace Neutral.Cli;

/// <summary><c>neutral config</c>: the effective configuration, secrets masked, and where each value came from.</summary>
internal static class ConfigCommand
{
    public static Command Create(ToolContext context)
    {
        Command command = new("config", "Shows the configuration the app in this folder runs with, secrets masked, and where each value comes from. Example: neutral config");
        command.SetAction(_ =>
        {
            NeutralOptions options = context.Options;
            IConfiguration configuration = context.Configuration;
            var table = new Table().AddColumns("key", "value", "from");
            foreach (Setting setting in CoreSettings.All)
            {
                string key = NeutralConfiguration.Section + ":" + setting.Key;
                string? origin = ConfigurationOrigin.Of(configuration, key);
                table.AddRow(Text(key), Text(setting.ValueIn(options) ?? "(none)"), Text(origin ?? "default"));
            }

            // The sections of the providers the configuration uses, key by key: what is set, and where.
            foreach (var (section, keys) in options.Providers.Sections.OrderBy(s => s.Section, StringComparer.Ordinal))
            {
                if (!configuration.GetSection(NeutralConfiguration.Section + ":" + section).GetChildren().Any() && !Uses(options, section))
                {
                    continue;
                }

                foreach (string name in keys)
                {
                    string key = $"{NeutralConfiguration.Section}:{section}:{name}";
                    string? value = configuration[key];
                    string shown = value is null ? "(not set)" : IsSecret(name) ? Masked(value) : WithoutUrlSecrets(value);
                    table.AddRow(Text(key), Text(shown), Text(value is null ? "" : ConfigurationOrigin.Of(configuration, key) ?? "")); 
                }
            }

            foreach (var (name, kind) in options.Stores.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                table.AddRow(Text($"{NeutralConfiguration.Section}:Stores:{name}:Kind"), Text(kind), Text(ConfigurationOrigin.Of(configuration, $"{NeutralConfiguration.Section}:Stores:{name}:Kind") ?? ""));
            }

            context.Console().Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>Whether the compute or a store in use is the provider whose section this is.</summary>
    private static bool Uses(NeutralOptions options, string section)
    {
        string storage = options.Storage ?? options.Compute;
        string[] used = [options.Compute, storage, .. options.Stores.Values];
        return section.ToLowerInvariant() switch
        {
            "aws" => used.Contains("aws") || used.Contains("s3"),
            "azure" => used.Contains("azure") || used.Contains("azureblob"),
            "minio" => used.Contains("minio") || used.Contains("openwhisk"),
            string other => used.Contains(other),
        };
    }

    /// <summary>Keys whose values are never shown: keys, secrets, passwords, tokens, connection strings.</summary>
    internal static bool IsSecret(string name) =>
        name.Contains("Secret", StringComparison.OrdinalIgnoreCase) || name.Contains("Password", StringComparison.OrdinalIgnoreCase)
        || name.Contains("Token", StringComparison.OrdinalIgnoreCase) || name.Contains("ConnectionString", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith("Key", StringComparison.OrdinalIgnoreCase) || name.Equals("Configuration", StringComparison.OrdinalIgnoreCase);

    /// <summary>An address as shown: its user part and its query (a SAS signature, a function key) hidden.</summary>
    internal static string WithoutUrlSecrets(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            return value;
        }

        var shown = new UriBuilder(url) { UserName = url.UserInfo.Length > 0 ? "(hidden)" : "", Password = "" };
        if (url.Query.Length > 1)
        {
            shown.Query = "(hidden)";
        }

        return shown.Uri.ToString();
    }

    /// <summary>A secret as shown: that it is set, and its length, never a character of it.</summary>
    internal static string Masked(string value) => $"(hidden, {value.Length.ToString(CultureInfo.InvariantCulture)} characters)";

    private static Markup Text(string text) => new(Markup.Escape(text));
}
