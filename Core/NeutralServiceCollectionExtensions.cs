using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Neutral.Providers;

namespace Neutral;

/// <summary>Registers Neutral with a service collection.</summary>
public static class NeutralServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="Cloud"/> configured from the <c>Neutral</c> section of
    /// <paramref name="configuration"/>, and returns a builder on which providers register (<c>.AddAws()</c> ...). The
    /// cloud logs through the container's <see cref="ILoggerFactory"/> and keeps time with its
    /// <see cref="TimeProvider"/> when it has them. Provider names and providers' sections are checked when the cloud is
    /// first resolved, after every <c>.AddX()</c> has run; the core's keys and values here.
    /// </summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong or a core key unknown (checked here, not at first use).</exception>
    public static NeutralBuilder AddNeutral(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        NeutralOptions options = NeutralConfiguration.Read(configuration);
        if (configuration[NeutralConfiguration.Section + ":Job:CancelOnSignal"] is null)
        {
            // The host stops on Ctrl-C and SIGTERM by itself and disposes the cloud, which cancels its jobs.
            options.Job.CancelOnSignal = false;
        }

        services.AddSingleton(options);
        services.AddSingleton(provider =>
        {
            // The container's logging and clock, when it has them.
            if (provider.GetService<ILoggerFactory>() is { } loggers && options.LoggerFactory is NullLoggerFactory)
            {
                options.LoggerFactory = loggers;
            }

            if (provider.GetService<TimeProvider>() is { } time && ReferenceEquals(options.TimeProvider, TimeProvider.System))
            {
                options.TimeProvider = time;
            }

            return Cloud.Connect(options);
        });
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

    /// <summary>Where provider packages' <c>AddX()</c> methods register their compute and stores.</summary>
    public ProviderRegistry Providers => Options.Providers;
}
