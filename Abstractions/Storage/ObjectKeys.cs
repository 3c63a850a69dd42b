using System;

namespace Neutral.Storage;

/// <summary>Rules every object key follows, whatever the store: relative, '/'-separated, printable.</summary>
public static class ObjectKeys
{
    /// <summary>The suffix of a store's temporary files; no key may end with it.</summary>
    public const string TemporarySuffix = ".neutral-tmp";

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is a valid object key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="parameterName">The parameter named in the exception.</param>
    /// <param name="allowPrefix">Whether a trailing '/' or an empty key (a listing prefix) is allowed.</param>
    public static void Validate(string key, string parameterName = "key", bool allowPrefix = false)
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        string? problem = Problem(key, allowPrefix);
        if (problem is not null)
        {
            throw new ArgumentException($"Object key '{Printable(key)}' is invalid: {problem}. Keys are relative paths like 'data/part-0001.txt'.", parameterName);
        }
    }

    private static string? Problem(string key, bool allowPrefix)
    {
        if (key.Length == 0)
        {
            return allowPrefix ? null : "it is empty";
        }

        if (key.Length > 1024)
        {
            return "it is longer than 1024 characters";
        }

        if (key[0] == '/' || (key.Length > 1 && key[1] == ':'))
        {
            return "it is an absolute path";
        }

        foreach (char c in key)
        {
            if (c == '\\')
            {
                return "it holds a backslash (use '/')";
            }

            if (char.IsControl(c))
            {
                return "it holds a control character";
            }
        }

        string[] segments = key.Split('/');
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            if (segment.Length == 0 && !(allowPrefix && i == segments.Length - 1))
            {
                return "it holds an empty path segment ('//' or a trailing '/')";
            }

            if (segment is "." or "..")
            {
                return "it holds a '.' or '..' segment";
            }
        }

        if (key.EndsWith(TemporarySuffix, StringComparison.Ordinal))
        {
            return $"it ends with '{TemporarySuffix}', which stores use for temporary files";
        }

        return null;
    }

    private static string Printable(string key)
    {
        var chars = key.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }
}
