using System;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// The <c>Neutral:OpenWhisk</c> section read and checked once, for the compute and the self-deployment alike: a wrong
/// value fails naming its key. Deployment-only keys (<c>ActionTimeoutSeconds</c>, ...) are read by the deployment
/// through <see cref="Limits"/>.
/// </summary>
internal sealed class OpenWhiskSection
{
    private OpenWhiskSection(IConfiguration section, string prefix)
    {
        Section = section;
        Prefix = prefix;
        Uri apiHost = ProviderSettings.HttpUrl(section, prefix, "ApiHost", "it must be an http or https address, e.g. https://openwhisk.example.com.", trailingSlash: true)
            ?? ProviderSettings.Missing(prefix + "ApiHost", "it is required: the controller's address, e.g. https://openwhisk.example.com.", new Uri("https://missing.invalid/"));
        string authKey = section["AuthKey"] is { Length: > 0 } key ? key
            : ProviderSettings.Missing(prefix + "AuthKey", "the namespace's key (uuid:key, as `wsk property get --auth` shows) is required; set it with the variable NEUTRAL__OPENWHISK__AUTHKEY rather than in a file.", "missing:missing");
        if (!authKey.Contains(':', StringComparison.Ordinal))
        {
            // Never echo a key: only say what is wrong with it.
            throw new NeutralConfigurationException(prefix + "AuthKey", "(hidden)", "it must be uuid:key, as `wsk property get --auth` shows.");
        }

        string ns = section["Namespace"] is { Length: > 0 } n ? n : "_";
        string action = section["Action"] is { Length: > 0 } a ? a : "neutral";
        bool insecure = ProviderSettings.Bool(section, prefix, "AcceptSelfSignedCertificate");
        bool blocking = ProviderSettings.Bool(section, prefix, "Blocking");
        Settings = new Compute.OpenWhiskSettings(apiHost, ns, action, authKey, insecure, blocking) { ProvideApiKey = ProviderSettings.Bool(section, prefix, "ProvideApiKey") };
    }

    /// <summary>Reads <c>OpenWhisk</c> under <paramref name="neutral"/> (the <c>Neutral</c> section).</summary>
    public static OpenWhiskSection Read(IConfiguration neutral) =>
        new(neutral.GetSection(OpenWhiskProvider.OpenWhiskSection), NeutralConfiguration.Section + ":" + OpenWhiskProvider.OpenWhiskSection + ":");

    /// <summary>The raw section, for keys only one reader needs.</summary>
    public IConfiguration Section { get; }

    /// <summary><c>Neutral:OpenWhisk:</c>, for error keys.</summary>
    public string Prefix { get; }

    /// <summary>Where the controller is, the namespace, the action and the key.</summary>
    public Compute.OpenWhiskSettings Settings { get; }

    /// <summary>The deployed action's limits: <c>ActionTimeoutSeconds</c> (else the job timeout), <c>ActionMemoryMb</c>, <c>ActionConcurrency</c>.</summary>
    public Compute.ActionLimits Limits(int jobTimeoutSeconds) => new(
        TimeoutSeconds: ProviderSettings.WholeNumber(Section, Prefix, "ActionTimeoutSeconds", jobTimeoutSeconds, 1, 24 * 3600),
        MemoryMb: ProviderSettings.WholeNumber(Section, Prefix, "ActionMemoryMb", 256, 128, 64 * 1024),
        Concurrency: ProviderSettings.WholeNumber(Section, Prefix, "ActionConcurrency", 1, 1, 500))
    {
        ProvideApiKey = Settings.ProvideApiKey,
    };
}
