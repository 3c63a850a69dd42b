using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Configuration;
using Neutral.Providers;

namespace Neutral;

/// <summary>
/// The strict key check: every key under the <c>Neutral</c> section is one of the core's settings
/// (<see cref="CoreSettings"/>) or a key a provider declared for its sub-section
/// (<see cref="ProviderRegistry.AddSection"/>). Anything else fails, naming the key, where it came from and the nearest
/// known key, so a misspelt key never passes silently as a default. A sub-section named after a provider Neutral knows
/// of, or one registered, is the provider's own business until the provider declares its keys: users keep every
/// provider's section in one file and switch providers with one variable.
/// </summary>
internal sealed class KnownKeys
{
    // Keys relative to the Neutral section, in their canonical spelling (keys are case-insensitive).
    private readonly List<string> _keys = [];
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _sections = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _anything = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _declared = new(StringComparer.OrdinalIgnoreCase);
    private readonly IConfiguration? _configuration;

    private KnownKeys(ProviderRegistry providers, IConfiguration? configuration)
    {
        _configuration = configuration;
        foreach (Setting setting in CoreSettings.All)
        {
            Add(setting.Key);
        }

        foreach ((string section, IReadOnlyList<string> keys) in providers.Sections)
        {
            _declared.Add(section);
            _sections.TryAdd(section, section);
            foreach (string key in keys)
            {
                Add(section + ":" + key);
            }
        }
    }

    /// <summary>
    /// Checks the keys under <paramref name="neutral"/> (the <c>Neutral</c> section of <paramref name="configuration"/>,
    /// which names origins when it is an <see cref="IConfigurationRoot"/>). Until <paramref name="complete"/> (at
    /// <c>Read</c>, before <c>AddNeutral(...).AddX()</c> may have registered more providers) a section outside the core
    /// is left for the check at <c>Cloud.Connect</c>; a single value outside the core cannot be a provider's section and
    /// fails at once.
    /// </summary>
    /// <exception cref="NeutralConfigurationException">A key is not one Neutral knows, or has the wrong shape.</exception>
    public static void Check(IConfiguration neutral, ProviderRegistry providers, IConfiguration? configuration, bool complete)
    {
        var known = new KnownKeys(providers, configuration);
        foreach (IConfigurationSection child in neutral.GetChildren())
        {
            bool declared = known._declared.Contains(child.Key);
            if (string.Equals(child.Key, NamedStores.Section, StringComparison.OrdinalIgnoreCase))
            {
                // Names of the user's choosing: NamedStores reads and checks them.
            }
            else if (CoreSettings.IsTopLevel(child.Key) || (declared && complete))
            {
                known.CheckNode(child, string.Empty);
            }
            else if (!declared && providers.Knows(child.Key))
            {
                // A provider's section that declares no keys: not ours to judge, even when the provider is not referenced.
            }
            else if (!complete && (declared || HasChildren(child)))
            {
                // Perhaps the section of a provider still to be registered: checked at Connect.
            }
            else
            {
                throw known.Unknown(child, string.Empty);
            }
        }
    }

    private void Add(string key)
    {
        string display = key;
        if (key.EndsWith(":*", StringComparison.Ordinal))
        {
            display = key[..^2];
            _anything.Add(display);
        }
        else
        {
            _values.TryAdd(key, key);
        }

        _keys.Add(display);
        for (int colon = display.IndexOf(':', StringComparison.Ordinal); colon >= 0; colon = display.IndexOf(':', colon + 1))
        {
            _sections.TryAdd(display[..colon], display[..colon]);
        }
    }

    private void CheckNode(IConfigurationSection node, string parent)
    {
        string path = Join(parent, node.Key);
        if (_values.TryGetValue(path, out string? key))
        {
            if (HasChildren(node))
            {
                throw NotAValue(key, node);
            }
        }
        else if (_anything.Contains(path))
        {
            // Declared as holding anything (a list, a map): the provider checks it.
        }
        else if (_sections.TryGetValue(path, out string? section))
        {
            if (!string.IsNullOrEmpty(node.Value))
            {
                string full = Full(section);
                throw new NeutralConfigurationException(full, node.Value, ConfigurationOrigin.Of(_configuration, full),
                    $"it is a section, not a single value: {Holds(section)}");
            }

            foreach (IConfigurationSection child in node.GetChildren())
            {
                CheckNode(child, section);
            }
        }
        else
        {
            throw Unknown(node, parent);
        }
    }

    private NeutralConfigurationException NotAValue(string key, IConfigurationSection node)
    {
        string below = FirstLeaf(node, key).Path;
        string full = Full(key);
        return new NeutralConfigurationException(full, null, ConfigurationOrigin.Of(_configuration, Full(below)),
            $"it must be a single value, but it is a section or a list (it holds '{Full(below)}').", showValue: false);
    }

    private NeutralConfigurationException Unknown(IConfigurationSection node, string parent)
    {
        // The first key under an unknown section is the one reported: its full path is what suggestions match best
        // (Locl:Workers is near Local:Workers), and it is what a file or a variable holds.
        (IConfigurationSection leaf, string path) = FirstLeaf(node, Join(parent, node.Key));
        string full = Full(path);
        string hint = Nearest(path) is { } near ? $"Did you mean '{Full(near)}'?" : Holds(parent);
        return new NeutralConfigurationException(full, leaf.Value, ConfigurationOrigin.Of(_configuration, full),
            $"it is not a setting Neutral knows. {hint}", showValue: leaf.Value is not null);
    }

    /// <summary>The keys that belong right under <paramref name="section"/>, for a message.</summary>
    private string Holds(string section)
    {
        string prefix = section.Length == 0 ? string.Empty : section + ":";
        IEnumerable<string> children = _keys
            .Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && k.Length > prefix.Length)
            .Select(k => k[prefix.Length..].Split(':')[0])
            .Distinct(StringComparer.OrdinalIgnoreCase);
        string list = string.Join(", ", children);
        return list.Length == 0 ? $"{Full(section)} holds no keys."
            : section.Length == 0
            ? $"{NeutralConfiguration.Section} holds only {list}, and sections named after providers."
            : $"{Full(section)} holds only {list}.";
    }

    /// <summary>
    /// The known key nearest to <paramref name="path"/> by edit distance, comparing last segments (a key in the wrong
    /// section, <c>Wokers</c> for <c>Local:Workers</c>) and whole paths (<c>Locl:Workers</c>); ties go to the same
    /// section. <see langword="null"/> when none is close enough to be a likely typo.
    /// </summary>
    private string? Nearest(string path)
    {
        string segment = LastSegment(path);
        string parent = path.Length > segment.Length ? path[..(path.Length - segment.Length - 1)] : string.Empty;
        string? best = null;
        int bestScore = int.MaxValue;
        foreach (string key in _keys)
        {
            int bySegment = Workers.EditDistance.Of(segment, LastSegment(key));
            int byPath = Workers.EditDistance.Of(path, key);
            if (bySegment > Allowance(segment) && byPath > Allowance(path))
            {
                continue;
            }

            bool sameSection = key.Length > LastSegment(key).Length
                ? string.Equals(key[..(key.Length - LastSegment(key).Length - 1)], parent, StringComparison.OrdinalIgnoreCase)
                : parent.Length == 0;
            int score = 2 * Math.Min(bySegment, byPath) + (sameSection ? 0 : 1);
            if (score < bestScore)
            {
                (best, bestScore) = (key, score);
            }
        }

        return best;
    }

    private static int Allowance(string text) => Math.Max(1, text.Length / 3);

    private static (IConfigurationSection Leaf, string Path) FirstLeaf(IConfigurationSection node, string path)
    {
        while (node.GetChildren().FirstOrDefault() is { } child)
        {
            node = child;
            path += ":" + child.Key;
        }

        return (node, path);
    }

    private static bool HasChildren(IConfigurationSection node) => node.GetChildren().Any();

    private static string LastSegment(string path) => path[(path.LastIndexOf(':') + 1)..];

    private static string Join(string parent, string key) => parent.Length == 0 ? key : parent + ":" + key;

    private static string Full(string path) => NeutralConfiguration.Section + ":" + path;
}
