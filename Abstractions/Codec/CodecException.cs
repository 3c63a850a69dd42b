using System;

namespace Neutral.Codec;

/// <summary>
/// Encoded bytes could not be decoded: they are truncated, corrupted, or were written by another codec version.
/// Decoders throw only this exception for bad input.
/// </summary>
public sealed class CodecException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="offset">The byte offset in the encoded input at which decoding failed.</param>
    /// <param name="function">The function whose arguments or result were being decoded, if known.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public CodecException(string message, long offset, string? function = null, Exception? innerException = null)
        : base(Format(message, offset, function), innerException)
    {
        Reason = message;
        Offset = offset;
        Function = function;
    }

    /// <summary>What was wrong, without the offset and function.</summary>
    public string Reason { get; }

    /// <summary>The byte offset in the encoded input at which decoding failed.</summary>
    public long Offset { get; }

    /// <summary>The function whose arguments or result were being decoded, when known.</summary>
    public string? Function { get; }

    /// <summary>Returns this error attributed to <paramref name="function"/> (used by generated code).</summary>
    public CodecException ForFunction(string function) =>
        Function is null ? new CodecException(Reason, Offset, function, InnerException) : this;

    private static string Format(string message, long offset, string? function) =>
        function is null
            ? $"Cannot decode Neutral payload at byte {offset}: {message}"
            : $"Cannot decode Neutral payload for {function} at byte {offset}: {message}";
}
