namespace Neutral;

/// <summary>
/// A byte range of a stored object, handed to one call. A chunk owns the lines that start inside its range: a reader
/// skips a partial first line (unless <see cref="Offset"/> is 0) and reads past the end to finish its last line.
/// </summary>
/// <param name="Key">The object's key.</param>
/// <param name="Offset">The first byte of the range.</param>
/// <param name="Length">The number of bytes in the range.</param>
public sealed record ObjectChunk(string Key, long Offset, long Length);
