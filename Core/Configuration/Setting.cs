using System;
using System.Globalization;

namespace Neutral;

/// <summary>
/// One of the core's settings (<see cref="CoreSettings"/>): its key under the <c>Neutral</c> section, how its text is
/// read into <see cref="NeutralOptions"/>, and how the value in the options is checked, whether read or set in code.
/// </summary>
internal sealed class Setting
{
    private readonly Action<NeutralOptions, string> _read;
    private readonly Action<NeutralOptions> _check;
    private readonly Func<NeutralOptions, string?> _show;

    private Setting(string key, Action<NeutralOptions, string> read, Action<NeutralOptions> check, Func<NeutralOptions, string?> show)
    {
        Key = key;
        _read = read;
        _check = check;
        _show = show;
    }

    /// <summary>The key under the <c>Neutral</c> section, e.g. <c>Local:Workers</c>.</summary>
    public string Key { get; }

    /// <summary>Reads the configuration's text into the options; throws naming the key when the text is wrong.</summary>
    public void Read(NeutralOptions options, string text) => _read(options, text);

    /// <summary>Checks the value in the options; throws naming the key when it is wrong.</summary>
    public void Check(NeutralOptions options) => _check(options);

    /// <summary>The value in the options as configuration would spell it (<see langword="null"/> when unset): what <c>neutral config</c> shows.</summary>
    public string? ValueIn(NeutralOptions options) => _show(options);

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Setting Int(string key, int min, int max, Func<NeutralOptions, int> get, Action<NeutralOptions, int> set)
    {
        string full = Full(key);
        string allowed = $"it must be a whole number from {min} to {max}.";
        return new Setting(
            key,
            (options, text) => set(options, int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
                ? value
                : throw new NeutralConfigurationException(full, text, allowed)),
            options =>
            {
                int value = get(options);
                if (value < min || value > max)
                {
                    throw new NeutralConfigurationException(full, value.ToString(CultureInfo.InvariantCulture), allowed);
                }
            },
            options => get(options).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// A whole number from <paramref name="min"/> to <paramref name="max"/>, or the word <paramref name="word"/>, kept in
    /// the options as <paramref name="wordValue"/> (outside the range): <c>auto</c> for a value chosen while the job runs.
    /// </summary>
    public static Setting IntOrWord(string key, int min, int max, string word, int wordValue, Func<NeutralOptions, int> get, Action<NeutralOptions, int> set)
    {
        string full = Full(key);
        string allowed = $"it must be {word} or a whole number from {min} to {max}.";
        return new Setting(
            key,
            (options, text) => set(options, string.Equals(text.Trim(), word, StringComparison.OrdinalIgnoreCase)
                ? wordValue
                : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
                    ? value
                    : throw new NeutralConfigurationException(full, text, allowed)),
            options =>
            {
                int value = get(options);
                if (value != wordValue && (value < min || value > max))
                {
                    throw new NeutralConfigurationException(full, value.ToString(CultureInfo.InvariantCulture), allowed);
                }
            },
            options => get(options) is int value && value == wordValue ? word : get(options).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/>, fractions allowed (<c>0.5</c>).</summary>
    public static Setting Number(string key, double min, double max, Func<NeutralOptions, double> get, Action<NeutralOptions, double> set)
    {
        string full = Full(key);
        string allowed = $"it must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)} (fractions allowed, as 0.5).";
        return new Setting(
            key,
            (options, text) => set(options, double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max
                ? value
                : throw new NeutralConfigurationException(full, text, allowed)),
            options =>
            {
                double value = get(options);
                if (!(value >= min && value <= max))
                {
                    throw new NeutralConfigurationException(full, value.ToString(CultureInfo.InvariantCulture), allowed);
                }
            },
            options => get(options).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary><c>true</c> or <c>false</c>.</summary>
    public static Setting Bool(string key, Func<NeutralOptions, bool> get, Action<NeutralOptions, bool> set)
    {
        string full = Full(key);
        return new Setting(
            key,
            (options, text) => set(options, bool.TryParse(text, out bool value) ? value : throw new NeutralConfigurationException(full, text, "it must be true or false.")),
            _ => { },
            options => get(options) ? "true" : "false");
    }

    /// <summary>
    /// Text kept as written (a path, a command). <paramref name="problem"/> says what is wrong with the value in the
    /// options and what is allowed, or returns <see langword="null"/> when it is fine.
    /// </summary>
    public static Setting Text(string key, Func<NeutralOptions, string?> get, Action<NeutralOptions, string> set, Func<NeutralOptions, string?, string?>? problem = null) =>
        new(key, set, Checker(Full(key), get, problem), get);

    /// <summary>A name (a provider, a mode): trimmed and lower-cased as read, so <c>LOCAL</c> is <c>local</c>.</summary>
    public static Setting Name(string key, Func<NeutralOptions, string?> get, Action<NeutralOptions, string> set, Func<NeutralOptions, string?, string?>? problem = null) =>
        new(key, (options, text) => set(options, text.Trim().ToLowerInvariant()), Checker(Full(key), get, problem), get);

    private static Action<NeutralOptions> Checker(string full, Func<NeutralOptions, string?> get, Func<NeutralOptions, string?, string?>? problem) =>
        problem is null
            ? _ => { }
            : options =>
            {
                string? value = get(options);
                if (problem(options, value) is { } allowed)
                {
                    throw new NeutralConfigurationException(full, value, allowed);
                }
            };

    private static string Full(string key) => NeutralConfiguration.Section + ":" + key;
}
