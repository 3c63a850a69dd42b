using System;

namespace Neutral;

/// <summary>A configuration value is missing or wrong. The message names the key, the value found and what is allowed.</summary>
public sealed class NeutralConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NeutralConfigurationException(string key, string? value, string allowed, Exception? innerException = null)
        : base($"Configuration key '{key}' has the value '{value ?? "(missing)"}': {allowed}", innerException)
    {
        Key = key;
        Value = value;
    }

    /// <summary>The configuration key, e.g. <c>Neutral:Local:Workers</c>.</summary>
    public string Key { get; }

    /// <summary>The value found (secrets are never put here).</summary>
    public string? Value { get; }
}
