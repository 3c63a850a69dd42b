namespace Neutral.Codec;

/// <summary>Facts about the binary codec that generated code and workers must agree on.</summary>
public static class CodecInfo
{
    /// <summary>
    /// The codec version. It is part of every signature hash, so a client and a worker built with different
    /// encodings refuse each other's calls instead of misreading them. Raise it whenever the encoding changes.
    /// </summary>
    public const int Version = 1;
}
