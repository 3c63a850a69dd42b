using System;

namespace Neutral;

/// <summary>
/// A configuration value is missing or wrong, a key is not one Neutral knows, or a configuration file cannot be read.
/// The message names the key, the value found, where it came from (a file, an environment variable) when known, and
/// what is allowed.
/// </summary>
public sealed class NeutralConfigurationException : Exception
{
    private readonly string _detail;
    private readonly bool _showValue;
    private readonly string? _message;

    /// <summary>Creates the exception: <paramref name="allowed"/> says what is wrong and what is allowed.</summary>
    public NeutralConfigurationException(string key, string? value, string allowed, Exception? innerException = null)
        : this(key, value, origin: null, allowed, showValue: true, innerException)
    {
    }

    /// <summary>An error about a key; without <paramref name="showValue"/> the message leaves the value out (a section has none).</summary>
    internal NeutralConfigurationException(string key, string? value, string? origin, string detail, bool showValue = true, Exception? innerException = null)
        : base(null, innerException)
    {
        Key = key;
        Value = value;
        Origin = origin;
        _detail = detail;
        _showValue = showValue;
    }

    private NeutralConfigurationException(string message, string origin, Exception innerException)
        : base(null, innerException)
    {
        Key = NeutralConfiguration.Section;
        Origin = origin;
        _detail = message;
        _message = message;
    }

    /// <summary>
    /// The configuration key, e.g. <c>Neutral:Local:Workers</c>; <c>Neutral</c> when a whole configuration file cannot
    /// be read (<see cref="Origin"/> names it).
    /// </summary>
    public string Key { get; }

    /// <summary>The value found (secrets are never put here); <see langword="null"/> when missing or not a single value.</summary>
    public string? Value { get; }

    /// <summary>
    /// Where the value came from, as the message names it: <c>the file /app/neutral.json</c>, <c>the environment
    /// variable NEUTRAL__LOCAL__WORKERS</c>, <c>in-memory configuration</c>; <see langword="null"/> when unknown (options
    /// set in code, or configuration that is not an <c>IConfigurationRoot</c>).
    /// </summary>
    public string? Origin { get; private set; }

    /// <inheritdoc/>
    public override string Message => _message ??
        $"Configuration key '{Key}'{(_showValue ? $" has the value '{Value ?? "(missing)"}'" : string.Empty)}{(Origin is null ? string.Empty : $" (from {Origin})")}: {_detail}";

    /// <summary>A configuration file that is not valid JSON, or cannot be read at all.</summary>
    internal static NeutralConfigurationException UnreadableFile(string path, string why, Exception innerException) =>
        new($"Configuration file '{path}' cannot be read: {why} Fix the file, or remove it to use the defaults.", "the file " + path, innerException);

    /// <summary>Names where the value came from, once known (errors are raised where only the key and value are at hand).</summary>
    internal void NameOrigin(string origin) => Origin ??= origin;
}
