using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.IO;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers;

/// <summary>
/// Reading a provider's settings the way Neutral's own are read (a wrong value is a
/// <see cref="NeutralConfigurationException"/> naming the key), and what a self-deploying application needs to know
/// about itself: what every provider shares.
/// </summary>
public static class ProviderSettings
{
    [ThreadStatic]
    private static List<NeutralConfigurationException>? t_missing;

    /// <summary>
    /// The value of <paramref name="key"/>; when it is missing or empty, throws naming <paramref name="what"/>, or, while
    /// a provider's factory runs (<see cref="CollectingMissing{T}"/>), records it and returns an empty placeholder, so
    /// that one error names every required key the factory found missing.
    /// </summary>
    public static string Required(IConfiguration section, string prefix, string key, string what)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section[key] is { Length: > 0 } value ? value : Missing(prefix + key, $"it is required: {what}.", string.Empty);
    }

    /// <summary>
    /// Whether the provider factory running on this thread found a required key missing: it fails once it ends, so work
    /// that would need the key (resolving credentials, a lookup) can be skipped.
    /// </summary>
    public static bool AnyMissing => t_missing is { Count: > 0 };

    /// <summary>
    /// A required key that is missing (<paramref name="detail"/> says what it is and where to set it): throws, or, while
    /// a provider's factory runs, records it and returns <paramref name="placeholder"/> (a value the factory's later
    /// checks accept), as <see cref="Required"/> does.
    /// </summary>
    /// <exception cref="NeutralConfigurationException">Outside a factory.</exception>
    public static T Missing<T>(string key, string detail, T placeholder)
    {
        var error = new NeutralConfigurationException(key, null, detail);
        if (t_missing is { } missing)
        {
            missing.Add(error);
            return placeholder;
        }

        throw error;
    }

    /// <summary>
    /// Runs a provider's factory collecting the required keys it finds missing: when there are any, what it built is
    /// disposed (by <paramref name="dispose"/>) and one <see cref="NeutralConfigurationException"/> names them all (an
    /// error the placeholders caused on the way is theirs, and replaced by it).
    /// </summary>
    internal static T CollectingMissing<T>(Func<T> open, Action<T> dispose)
    {
        List<NeutralConfigurationException>? outer = t_missing;
        var missing = new List<NeutralConfigurationException>();
        t_missing = missing;
        try
        {
            T built;
            try
            {
                built = open();
            }
            catch (Exception) when (missing.Count > 0)
            {
                throw MissingKeys(missing);
            }

            if (missing.Count > 0)
            {
                dispose(built);
                throw MissingKeys(missing);
            }

            return built;
        }
        finally
        {
            t_missing = outer;
        }
    }

    private static NeutralConfigurationException MissingKeys(List<NeutralConfigurationException> missing) =>
        missing.Count == 1
            ? missing[0]
            : new NeutralConfigurationException(missing[0].Key, null,
                $"{missing.Count} required settings are missing; set them all: " + string.Join(" ", missing.Select(m => $"[{m.Key}] {m.Message[(m.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]}")));

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or <paramref name="fallback"/> when the key is not set.</summary>
    public static int WholeNumber(IConfiguration section, string prefix, string key, int fallback, int min, int max)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section[key] is not { } text)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new NeutralConfigurationException(prefix + key, text, $"it must be a whole number from {min} to {max}.");
    }

    /// <summary><c>true</c> or <c>false</c>, or <paramref name="fallback"/> when the key is not set.</summary>
    public static bool Bool(IConfiguration section, string prefix, string key, bool fallback = false)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section[key] is not { } text ? fallback
            : bool.TryParse(text, out bool value) ? value
            : throw new NeutralConfigurationException(prefix + key, text, "it must be true or false.");
    }

    /// <summary>
    /// A price in US dollars (a number of 0 or more, <c>.</c> as the decimal point), or <paramref name="fallback"/> when
    /// the key is not set: the <c>PricePer...</c> keys a provider's cost estimate reads.
    /// </summary>
    public static decimal Price(IConfiguration section, string prefix, string key, decimal fallback)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section[key] is not { } text ? fallback
            : decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out decimal value) && value >= 0 ? value
            : throw new NeutralConfigurationException(prefix + key, text, "it must be a price in US dollars, a number of 0 or more with '.' as the decimal point.");
    }

    /// <summary>
    /// An absolute <c>http</c> or <c>https</c> address, or null when the key is not set or empty; anything else throws
    /// with <paramref name="expected"/> as the reason (say what the address is, with an example).
    /// </summary>
    /// <param name="section">The provider's section.</param>
    /// <param name="prefix">The section's key prefix, for messages.</param>
    /// <param name="key">The key.</param>
    /// <param name="expected">The reason a wrong value gives ("it must be the Blob service's address, e.g. ...").</param>
    /// <param name="trailingSlash">Whether to end the address with <c>/</c> (a base address relative ones resolve against).</param>
    /// <param name="httpsOnly">Whether plain <c>http</c> is refused.</param>
    public static Uri? HttpUrl(IConfiguration section, string prefix, string key, string expected, bool trailingSlash = false, bool httpsOnly = false)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section[key] is not { Length: > 0 } text)
        {
            return null;
        }

        string value = trailingSlash && !text.EndsWith('/') ? text + "/" : text;
        return Uri.TryCreate(value, UriKind.Absolute, out Uri? url) && (url.Scheme == "https" || (!httpsOnly && url.Scheme == "http"))
            ? url
            : throw new NeutralConfigurationException(prefix + key, text, expected);
    }

    /// <summary>
    /// This process as a deployable worker: its publish folder, its executable, and whether it is a NativeAOT build.
    /// A framework-dependent build (or <c>dotnet App.dll</c>) cannot be deployed to a platform without a .NET runtime:
    /// refused, naming the publish commands.
    /// </summary>
    /// <param name="platform">What the worker would run as, for the message ("an OpenWhisk action").</param>
    /// <exception cref="InvalidOperationException">The process is not a self-contained or NativeAOT build.</exception>
    public static (string Folder, string Executable, bool NativeAot) ThisApplication(string platform)
    {
        string executable = Environment.ProcessPath ?? throw new InvalidOperationException("the process has no executable path.");
        string folder = AppContext.BaseDirectory;
        bool nativeAot = !RuntimeFeature.IsDynamicCodeSupported;
        if (!nativeAot && (Path.GetFileNameWithoutExtension(executable) == "dotnet" || !File.Exists(Path.Combine(folder, "libcoreclr.so"))))
        {
            throw new InvalidOperationException(
                $"{platform} runs without a .NET runtime installed: run the executable of a self-contained or NativeAOT publish for linux-x64 "
                + "(dotnet publish -c Release -r linux-x64 --self-contained, or -p:PublishAot=true), not `dotnet App.dll` or a framework-dependent build.");
        }

        return (folder, executable, nativeAot);
    }

    /// <summary>What each store kind's deployed workers need in their environment (<see cref="ProviderPackage.DeployedVariables"/>).</summary>
    internal static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<IConfiguration, System.Collections.Generic.IReadOnlyDictionary<string, string>>> DeployedStoreVariables = new(StringComparer.Ordinal);

    /// <summary>
    /// The environment a self-deployed worker runs with: <c>NEUTRAL_WORKER</c> = <paramref name="runtime"/>, the
    /// startup hook under the JIT (it takes the process over before <c>Main</c> and loads the application itself), and
    /// invariant globalization unless <c>InvariantGlobalization</c> is <c>false</c> (the platforms' images may have no ICU;
    /// invariant everywhere keeps results the same on every provider). With them, what the job's named stores
    /// (<c>Neutral:Stores</c>) need to be opened by a worker, such as <c>NEUTRAL__REDIS__PASSWORD</c>: a deployed function
    /// gets its stores' secrets from its settings, never from an envelope.
    /// </summary>
    /// <param name="runtime">The worker runtime's name.</param>
    /// <param name="nativeAot">Whether the application is a NativeAOT publish.</param>
    /// <param name="section">The provider's section.</param>
    /// <param name="prefix">The section's key prefix, for messages.</param>
    /// <param name="neutral">The <c>Neutral</c> section (the named stores and their kinds' sections).</param>
    /// <exception cref="NeutralConfigurationException">A named store's kind is one the application's workers cannot open (its package is not referenced).</exception>
    public static System.Collections.Generic.Dictionary<string, string> WorkerEnvironment(string runtime, bool nativeAot, IConfiguration section, string prefix, IConfiguration neutral)
    {
        ArgumentException.ThrowIfNullOrEmpty(runtime);
        ArgumentNullException.ThrowIfNull(neutral);
        var environment = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["NEUTRAL_WORKER"] = runtime,
        };
        if (!nativeAot)
        {
            environment["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers";
        }

        if (Bool(section, prefix, "InvariantGlobalization", fallback: true))
        {
            environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        }

        foreach (IConfigurationSection store in neutral.GetSection("Stores").GetChildren())
        {
            string? kind = store["Kind"] ?? store.Value;
            if (string.IsNullOrWhiteSpace(kind))
            {
                continue; // Cloud.Connect names the missing kind.
            }

            if (DeployedStoreVariables.TryGetValue(kind, out var variables))
            {
                foreach (var (name, value) in variables(neutral))
                {
                    environment[name] = value;
                }
            }
            else if (!Neutral.Storage.ObjectStores.IsRegistered(kind))
            {
                throw new NeutralConfigurationException($"{NeutralConfiguration.Section}:Stores:{store.Key}:Kind", kind,
                    $"the deployed workers could not open a '{kind}' store: the application does not reference the package of that store kind (Neutral.Providers.Redis for redis).");
            }
        }

        return environment;
    }

    /// <summary>
    /// The timeout of the one function that serves all of an application's <paramref name="functions"/>: the key
    /// <paramref name="key"/> when set (1 to <paramref name="max"/>), else the longest
    /// <c>[Remote(TimeoutSeconds)]</c> (refused above <paramref name="max"/>, naming the method), else the job timeout
    /// (<c>Neutral:Job:TimeoutSeconds</c>, 300 s) capped at <paramref name="max"/>.
    /// </summary>
    /// <param name="configuration">The whole configuration (for the job timeout).</param>
    /// <param name="section">The provider's section.</param>
    /// <param name="prefix">The section's key prefix, for messages.</param>
    /// <param name="key">The key that sets the timeout.</param>
    /// <param name="functions">The application's remote functions.</param>
    /// <param name="max">The platform's longest timeout.</param>
    /// <param name="platform">The platform's name for the message ("a Lambda function").</param>
    public static int DeployedTimeout(IConfiguration configuration, IConfiguration section, string prefix, string key,
        System.Collections.Generic.IReadOnlyCollection<Neutral.Dispatch.RemoteFunctionInfo> functions, int max, string platform)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(functions);
        if (section[key] is not null)
        {
            return WholeNumber(section, prefix, key, 0, 1, max);
        }

        Neutral.Dispatch.RemoteFunctionInfo? longest = null;
        foreach (Neutral.Dispatch.RemoteFunctionInfo function in functions)
        {
            if (function.TimeoutSeconds is int t && (longest?.TimeoutSeconds is not int best || t > best))
            {
                longest = function;
            }
        }

        if (longest is { TimeoutSeconds: int timeout } method)
        {
            return timeout <= max ? timeout
                : throw new InvalidOperationException($"{method.Id} has [Remote(TimeoutSeconds = {timeout})], and {platform} runs at most {max} s: split the work into shorter calls.");
        }

        int jobTimeout = WholeNumber(configuration.GetSection("Neutral:Job"), "Neutral:Job:", "TimeoutSeconds", 300, 1, int.MaxValue);
        return Math.Min(jobTimeout, max);
    }
}
