using System;

namespace Neutral.Codec;

/// <summary>
/// The generated codec of <typeparamref name="T"/>, for library code that must encode a value of a type it does not
/// know at compile time (<c>Cloud.ShareAsync</c>). Generated module initializers register the element types of
/// every <see cref="Shared{T}"/> parameter.
/// </summary>
/// <typeparam name="T">The type encoded.</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "A per-type static slot is the point: no dictionary lookup, no reflection.")]
public static class CodecRegistry<T>
{
    /// <summary>The registered writer, or <see langword="null"/>.</summary>
    public static CodecWrite<T>? Write { get; private set; }

    /// <summary>The registered reader, or <see langword="null"/>.</summary>
    public static CodecRead<T>? Read { get; private set; }

    /// <summary>Registers the codec (called by generated code).</summary>
    public static void Register(CodecWrite<T> write, CodecRead<T> read)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(read);
        Write = write;
        Read = read;
    }
}
