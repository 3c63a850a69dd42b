using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Neutral.Providers;

/// <summary>What a provider's factory gets at <c>Cloud.Connect</c>.</summary>
public sealed class ProviderContext
{
    internal ProviderContext(NeutralOptions options, StoreConnection? store)
    {
        Options = options;
        Store = store;
    }

    /// <summary>All of Neutral's options.</summary>
    public NeutralOptions Options { get; }

    /// <summary>The <c>Neutral</c> configuration section: a provider reads its own sub-section (<c>Aws</c>, <c>Minio</c>, ...).</summary>
    public IConfiguration Configuration => Options.Configuration;

    /// <summary>The store in use, for compute factories (workers must reach it); <see langword="null"/> for store factories.</summary>
    public StoreConnection? Store { get; }

    /// <summary>The clock (fake in tests).</summary>
    public TimeProvider TimeProvider => Options.TimeProvider;

    /// <summary>Where providers log.</summary>
    public ILoggerFactory LoggerFactory => Options.LoggerFactory;

    /// <summary>
    /// The sub-section <paramref name="name"/> of the <c>Neutral</c> section, with the configuration key prefix for
    /// error messages (<c>Neutral:Aws:</c>). An error thrown with that key gets the origin of the value (the file, the
    /// environment variable) named by <c>Cloud.Connect</c>; <see cref="ProviderRegistry.AddSection"/> declares the
    /// section's keys so that misspelt ones fail.
    /// </summary>
    public (IConfigurationSection Section, string KeyPrefix) Section(string name) =>
        (Configuration.GetSection(name), NeutralConfiguration.Section + ":" + name + ":");
}
