using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Neutral;

/// <summary>Registers Neutral with a service collection.</summary>
public static class NeutralServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="Cloud"/> configured from the <c>Neutral</c> section of
    /// <paramref name="configuration"/>, and returns a builder on which providers register (<c>.AddAws()</c> ...).
    /// </summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong (checked here, not at first use).</exception>
    public static NeutralBuilder AddNeutral(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        NeutralOptions options = NeutralConfiguration.Read(configuration);
        services.AddSingleton(options);
        services.AddSingleton(_ => Cloud.Connect(options));
        services.AddSingleton(provider => provider.GetRequiredService<Cloud>().Storage);
        return new NeutralBuilder(services, options);
    }
}

/// <summary>What <c>AddNeutral</c> returns: where providers register.</summary>
public sealed class NeutralBuilder
{
    internal NeutralBuilder(IServiceCollection services, NeutralOptions options)
    {
        Services = services;
        Options = options;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The options read.</summary>
    public NeutralOptions Options { get; }
}
