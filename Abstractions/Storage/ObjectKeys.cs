using System;

namespace Neutral.Storage;

/// <summary>Rules every object key follows, whatever the store: relative, '/'-separated, printable, valid Unicode.</summary>
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

        for (int i = 0; i < key.Length; i++)
        {
            char c = key[i];
            if (c == '\\')
            {
                return "it holds a backslash (use '/')";
            }

            if (char.IsControl(c))
            {
                return "it holds a control character";
            }

            if (char.IsSurrogate(c))
            {
                // Keys travel as UTF-8 (file names, S3 and blob keys): a lone half of a surrogate pair has no encoding,
                // and would silently become U+FFFD, merging distinct keys.
                if (!char.IsHighSurrogate(c) || i + 1 == key.Length || !char.IsLowSurrogate(key[i + 1]))
                {
                    return $"it holds an unpaired UTF-16 surrogate (U+{(int)c:X4}) at position {i}, which has no UTF-8 encoding; build keys from whole characters";
                }

                i++;
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

            if (i < segments.Length - 1 && segment.EndsWith(TemporarySuffix, StringComparison.Ordinal))
            {
                return $"its segment '{segment}' ends with '{TemporarySuffix}', which stores use for temporary files";
            }
        }

        if (key.EndsWith(TemporarySuffix, StringComparison.Ordinal))
        {
            return $"it ends with '{TemporarySuffix}', which stores use for temporary files";
        }

        return null;
    }

    /// <summary>The key as it can be shown in a message: control characters and lone surrogates become '?'.</summary>
    private static string Printable(string key)
    {
        var chars = key.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsControl(chars[i]) || char.IsSurrogate(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }
}
