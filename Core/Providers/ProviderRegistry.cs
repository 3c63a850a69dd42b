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
    /// Registers a store under <paramref name="name"/> (lower case, as in configuration). The factory runs at
    /// <c>Cloud.Connect</c> and returns the client's store and the location workers open it by; the worker side of the
    /// same provider registers the kind with <see cref="Storage.ObjectStores"/>.
    /// </summary>
    public ProviderRegistry AddStorage(string name, Func<ProviderContext, StoreConnection> create)
    {
        _storage[CheckName(name)] = create ?? throw new ArgumentNullException(nameof(create));
        return this;
    }

    /// <summary>The compute names registered, sorted.</summary>
    public IReadOnlyList<string> ComputeNames => _compute.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The store names registered, sorted.</summary>
    public IReadOnlyList<string> StorageNames => _storage.Keys.Order(StringComparer.Ordinal).ToArray();

    internal Func<ProviderContext, IComputeBackend>? Compute(string name) => _compute.TryGetValue(name, out var create) ? create : null;

    internal Func<ProviderContext, StoreConnection>? Storage(string name) => _storage.TryGetValue(name, out var create) ? create : null;

    /// <summary>The store a compute provider uses when <c>Neutral:Storage</c> is left out.</summary>
    internal static string DefaultStorageFor(string compute) => compute switch
    {
        "aws" => "s3",
        "azure" => "azureblob",
        "openwhisk" => "minio",
        _ => compute,
    };

    /// <summary>The package that brings a provider Neutral knows of, for the "add the package" error.</summary>
    internal static string? PackageOf(string name) => name switch
    {
        "aws" or "s3" => "Neutral.Providers.Aws",
        "azure" or "azureblob" => "Neutral.Providers.Azure",
        "openwhisk" or "minio" => "Neutral.Providers.OpenWhisk",
        "redis" => "Neutral.Providers.Redis",
        _ => null,
    };

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
