using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;

namespace Neutral.Providers;

/// <summary>
/// The compute backends and stores an application can select by name (<c>Neutral:Compute</c>,
/// <c>Neutral:Storage</c>). <see cref="Default"/> is process-wide: provider packages register into it from the
/// registration the source generator wires into every executable that references them
/// (<see cref="NeutralProviderAttribute"/>), or from <c>services.AddNeutral(...).AddAws()</c>. Tests and hosts that
/// want isolation pass their own registry through <see cref="NeutralOptions.Providers"/>. The built-in <c>local</c>
/// compute and store are always there.
/// </summary>
public sealed class ProviderRegistry
{
    private readonly ConcurrentDictionary<string, Func<ProviderContext, IComputeBackend>> _compute = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<ProviderContext, StoreConnection>> _storage = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string[]> _sections = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _defaultStorage = new(StringComparer.Ordinal);

    /// <summary>Creates a registry holding the built-in <c>local</c> compute and store only.</summary>
    public ProviderRegistry()
    {
        Local.LocalProvider.AddTo(this);
    }

    /// <summary>The process-wide registry that provider packages register into.</summary>
    public static ProviderRegistry Default { get; } = new();

    /// <summary>
    /// Registers a compute backend under <paramref name="name"/> (lower case, as in configuration). The factory runs at
    /// <c>Cloud.Connect</c>: it reads and checks its configuration section (throwing
    /// <see cref="NeutralConfigurationException"/> naming the key) and returns the backend, which the
    /// <see cref="Cloud"/> disposes.
    /// </summary>
    public ProviderRegistry AddCompute(string name, Func<ProviderContext, IComputeBackend> create)
    {
        _compute[CheckName(name)] = create ?? throw new ArgumentNullException(nameof(create));
        return this;
    }

    /// <summary>
    /// Registers a compute backend (as <see cref="AddCompute(string, Func{ProviderContext, IComputeBackend})"/>) that keeps
    /// its data in the store <paramref name="defaultStorage"/> when <c>Neutral:Storage</c> is left out.
    /// </summary>
    public ProviderRegistry AddCompute(string name, Func<ProviderContext, IComputeBackend> create, string defaultStorage)
    {
        AddCompute(name, create);
        _defaultStorage[name] = CheckName(defaultStorage);
        return this;
    }

    /// <summary>
    /// Registers a store under <paramref name="name"/> (lower case, as in configuration). The factory runs at
    /// <c>Cloud.Connect</c> and returns the client's store and the location workers open it by; the worker side of the
    /// same provider registers the kind with <see cref="Storage.ObjectStores"/>.
    /// </summary>
    public ProviderRegistry AddStorage(string name, Func<ProviderContext, StoreConnection> create)
    {
        _storage[CheckName(name)] = create ?? throw new ArgumentNullException(nameof(create));
        return this;
    }

    /// <summary>
    /// Declares the keys of a provider's configuration sub-section <c>Neutral:{section}</c>, relative to it:
    /// <c>AddSection("Aws", "Region", "FunctionName", "Credentials:Profile")</c>. A last segment <c>*</c>
    /// (<c>"Tags:*"</c>) accepts anything below it, for lists and maps. Once a section has declared keys,
    /// <c>Cloud.Connect</c> fails on any other key in it, naming the key, where it came from and the nearest declared
    /// key, as for the core's own keys. A section with no declared keys is left alone when it is named after a provider
    /// Neutral knows of (<c>Aws</c>, <c>S3</c>, <c>Azure</c>, ...) or a registered compute or store, whether or not the
    /// provider is referenced. Declarations of one section add up (a package's compute and store may share it).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="section"/> or a key is empty or has an empty segment, <paramref name="section"/> holds <c>:</c>,
    /// or it is one of the core's own keys (<c>Compute</c>, <c>Storage</c>, <c>Job</c>, <c>Local</c>).
    /// </exception>
    public ProviderRegistry AddSection(string section, params string[] keys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(section);
        ArgumentNullException.ThrowIfNull(keys);
        if (section.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Section '{section}' must be one name under Neutral, without ':'; put deeper keys in keys ('Credentials:Profile').", nameof(section));
        }

        if (CoreSettings.IsTopLevel(section))
        {
            throw new ArgumentException($"'{section}' is one of the core's own keys under Neutral; a provider's section is named after the provider.", nameof(section));
        }

        foreach (string key in keys)
        {
            if (!IsKeyPath(key))
            {
                throw new ArgumentException($"Key '{key}' of section '{section}' must be a path of non-empty names ('Region', 'Credentials:Profile'), with '*' only as its last segment.", nameof(keys));
            }
        }

        string[] added = [.. keys];
        // Idempotent: a package registered twice (by two assemblies' generated registrations) declares each key once.
        _sections.AddOrUpdate(section, added, (_, declared) => [.. declared.Union(added, StringComparer.OrdinalIgnoreCase)]);
        return this;
    }

    /// <summary>The compute names registered, sorted.</summary>
    public IReadOnlyList<string> ComputeNames => _compute.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The store names registered, sorted.</summary>
    public IReadOnlyList<string> StorageNames => _storage.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The sections whose keys providers declared (<see cref="AddSection"/>), each with its keys.</summary>
    internal IEnumerable<(string Section, IReadOnlyList<string> Keys)> Sections =>
        _sections.OrderBy(s => s.Key, StringComparer.OrdinalIgnoreCase).Select(s => (s.Key, (IReadOnlyList<string>)s.Value));

    /// <summary>
    /// Whether a section under <c>Neutral</c> is named after a provider Neutral knows of or one registered here (any
    /// case, as configuration keys are case-insensitive).
    /// </summary>
    internal bool Knows(string section)
    {
        string name = section.ToLowerInvariant();
        return PackageOf(name) is not null || _compute.ContainsKey(name) || _storage.ContainsKey(name);
    }

    internal Func<ProviderContext, IComputeBackend>? Compute(string name) => _compute.TryGetValue(name, out var create) ? create : null;

    internal Func<ProviderContext, StoreConnection>? Storage(string name) => _storage.TryGetValue(name, out var create) ? create : null;

    /// <summary>The store a compute uses when <c>Neutral:Storage</c> is left out: the one it declared, else the store of its own name.</summary>
    internal string DefaultStorageFor(string compute) => _defaultStorage.TryGetValue(compute, out string? storage) ? storage : compute;

    /// <summary>
    /// The package that brings a provider Neutral knows of, for the "add the package" error. A provider that is not
    /// referenced cannot say so itself: this table of the first-party packages is the one place that names them, and only
    /// for that message and for leaving their sections alone when the package is absent.
    /// </summary>
    internal static string? PackageOf(string name) => name switch
    {
        "aws" or "s3" => "Neutral.Providers.Aws",
        "azure" or "azureblob" => "Neutral.Providers.Azure",
        "openwhisk" or "minio" => "Neutral.Providers.OpenWhisk",
        "redis" => "Neutral.Providers.Redis",
        _ => null,
    };

    private static bool IsKeyPath(string? key)
    {
        string[] segments = key?.Split(':') ?? [];
        int star = Array.IndexOf(segments, "*");
        return segments.Length > 0 && !segments.Any(string.IsNullOrWhiteSpace) && (star < 0 || star == segments.Length - 1);
    }

    private static string CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_')))
        {
            throw new ArgumentException($"Provider name '{name}' may hold only lower-case ASCII letters, digits, '-' and '_'.", nameof(name));
        }

        return name;
    }
}
