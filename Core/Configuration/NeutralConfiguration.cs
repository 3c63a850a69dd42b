using System;
using System.Globalization;
using System.IO;
using Microsoft.Extensions.Configuration;

namespace Neutral;

/// <summary>Reads and checks <see cref="NeutralOptions"/> from configuration, naming the key of anything wrong.</summary>
public static class NeutralConfiguration
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Neutral";

    /// <summary>
    /// The default configuration: <c>appsettings.json</c> and <c>neutral.json</c> in the working directory (both
    /// optional, the latter winning), then <c>NEUTRAL__*</c> environment variables (e.g. <c>NEUTRAL__COMPUTE=local</c>).
    /// </summary>
    public static IConfiguration Default()
    {
        string directory = Directory.GetCurrentDirectory();
        return new ConfigurationBuilder()
            .SetBasePath(directory)
            .AddJsonFile("appsettings.json", optional: true, reloadOnChange: false)
            .AddJsonFile("neutral.json", optional: true, reloadOnChange: false)
            // Unprefixed on purpose: NEUTRAL__LOCAL__WORKERS becomes Neutral:Local:Workers, the section's own key.
            .AddEnvironmentVariables()
            .Build();
    }

    /// <summary>Reads the <c>Neutral</c> section into options.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong.</exception>
    public static NeutralOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new NeutralOptions();
        IConfigurationSection section = configuration.GetSection(Section);
        options.Configuration = section;
        Apply(section, Section + ":", options);
        Validate(options);
        return options;
    }

    private static void Apply(IConfiguration section, string path, NeutralOptions options)
    {
        if (section["Compute"] is { } compute)
        {
            options.Compute = compute.Trim().ToLowerInvariant();
        }

        if (section["Storage"] is { } storage)
        {
            options.Storage = storage.Trim().ToLowerInvariant();
        }

        IConfiguration job = section.GetSection("Job");
        options.Job.Retries = Int(job, path + "Job:Retries", options.Job.Retries, min: 0, max: 100);
        options.Job.TimeoutSeconds = Int(job, path + "Job:TimeoutSeconds", options.Job.TimeoutSeconds, min: 1, max: 7 * 24 * 3600);
        options.Job.Speculation = Bool(job, path + "Job:Speculation", options.Job.Speculation);
        options.Job.KeepData = Bool(job, path + "Job:KeepData", options.Job.KeepData);
        options.Job.StartTimeoutSeconds = Int(job, path + "Job:StartTimeoutSeconds", options.Job.StartTimeoutSeconds, min: 1, max: 7 * 24 * 3600);
        options.Job.InvokeConcurrency = Int(job, path + "Job:InvokeConcurrency", options.Job.InvokeConcurrency, min: 1, max: 10_000);
        options.Job.StoreRetrySeconds = Int(job, path + "Job:StoreRetrySeconds", options.Job.StoreRetrySeconds, min: 0, max: 24 * 3600);
        options.Job.SweepAfterHours = Int(job, path + "Job:SweepAfterHours", options.Job.SweepAfterHours, min: 0, max: 365 * 24);

        IConfiguration local = section.GetSection("Local");
        options.Local.Workers = Int(local, path + "Local:Workers", options.Local.Workers, min: 0, max: 4096);
        if (local["Isolation"] is { } isolation)
        {
            options.Local.Isolation = isolation.Trim().ToLowerInvariant();
        }

        if (local["Root"] is { } root)
        {
            options.Local.Root = root;
        }

        if (local["WorkerCommand"] is { } command)
        {
            options.Local.WorkerCommand = command;
        }
    }

    /// <summary>Checks options set in code or read from configuration.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong.</exception>
    public static void Validate(NeutralOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string p = Section + ":";
        if (string.IsNullOrWhiteSpace(options.Compute))
        {
            throw new NeutralConfigurationException(p + "Compute", options.Compute ?? string.Empty, "it must name a compute provider: " + string.Join(", ", options.Providers.ComputeNames) + ".");
        }

        if (options.Storage is { } storage && string.IsNullOrWhiteSpace(storage))
        {
            throw new NeutralConfigurationException(p + "Storage", storage, "it must name a store (" + string.Join(", ", options.Providers.StorageNames) + "), or be left out to follow Compute.");
        }

        Range(p + "Job:Retries", options.Job.Retries, 0, 100);
        Range(p + "Job:TimeoutSeconds", options.Job.TimeoutSeconds, 1, 7 * 24 * 3600);
        Range(p + "Job:StartTimeoutSeconds", options.Job.StartTimeoutSeconds, 1, 7 * 24 * 3600);
        Range(p + "Job:InvokeConcurrency", options.Job.InvokeConcurrency, 1, 10_000);
        Range(p + "Job:StoreRetrySeconds", options.Job.StoreRetrySeconds, 0, 24 * 3600);
        Range(p + "Job:SweepAfterHours", options.Job.SweepAfterHours, 0, 365 * 24);
        Range(p + "Local:Workers", options.Local.Workers, 0, 4096);
        if (options.Local.Isolation is not ("process" or "inproc"))
        {
            throw new NeutralConfigurationException(p + "Local:Isolation", options.Local.Isolation, "allowed values are process (worker processes, the default) and inproc (threads in this process, for debugging).");
        }

        if (string.IsNullOrWhiteSpace(options.Local.Root))
        {
            throw new NeutralConfigurationException(p + "Local:Root", options.Local.Root, "it must be a folder path (default .neutral).");
        }
    }

    private static void Range(string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw new NeutralConfigurationException(key, value.ToString(CultureInfo.InvariantCulture), $"it must be a whole number from {min} to {max}.");
        }
    }

    private static int Int(IConfiguration section, string key, int fallback, int min, int max)
    {
        string? text = section[key[(key.LastIndexOf(':') + 1)..]];
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new NeutralConfigurationException(key, text, $"it must be a whole number from {min} to {max}.");
        }

        return value;
    }

    private static bool Bool(IConfiguration section, string key, bool fallback)
    {
        string? text = section[key[(key.LastIndexOf(':') + 1)..]];
        if (text is null)
        {
            return fallback;
        }

        return bool.TryParse(text, out bool value) ? value : throw new NeutralConfigurationException(key, text, "it must be true or false.");
    }
}
