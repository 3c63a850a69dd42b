using System;
using System.Text;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// URI encoding as S3's Signature Version 4 defines it: every UTF-8 byte percent-encoded (upper-case hex) except the
/// unreserved <c>A-Z a-z 0-9 - _ . ~</c>, and <c>/</c> kept in a path. The same text goes on the wire and into the
/// canonical request, so the server and the signer see one form.
/// </summary>
internal static class S3UriEncoding
{
    /// <summary>An object key (or bucket) as a path: <c>/</c> separates segments and stays.</summary>
    public static string Path(string value) => Encode(value, keepSlash: true);

    /// <summary>A query parameter's name or value: <c>/</c> too is encoded.</summary>
    public static string Query(string value) => Encode(value, keepSlash: false);

    private static string Encode(string value, bool keepSlash)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (IsPlain(value, keepSlash))
        {
            return value;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(value);
        var text = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (IsUnreserved(b) || (keepSlash && b == '/'))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xF));
            }
        }

        return text.ToString();
    }

    private static bool IsPlain(string value, bool keepSlash)
    {
        foreach (char c in value)
        {
            if (c >= 0x80 || !(IsUnreserved((byte)c) || (keepSlash && c == '/')))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsUnreserved(byte b) =>
        b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    private static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);
}
