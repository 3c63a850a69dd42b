using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral;

/// <summary>
/// Input that lives in storage, cut into calls (PyWren's map over stored data): <see cref="Split"/> partitions the
/// objects under a prefix into byte ranges, one call each, and <see cref="ReadAsync"/> reads, inside the call, the
/// whole lines its range owns. A chunk owns the lines that start inside its range, so the chunks of an object cover
/// each of its lines exactly once, however the byte ranges cut them.
/// </summary>
/// <example>
/// <code>
/// var chunks = await StorageInput.Split(cloud.Storage, "logs/", 64 &lt;&lt; 20).ToListAsync();
/// long[] counts = await cloud.MapAsync(chunks, c =&gt; Remote.Logs.CountErrors(c));
///
/// [Remote]
/// public static async Task&lt;long&gt; CountErrors(ObjectChunk chunk, RemoteContext context) =&gt;
///     (await StorageInput.ReadLinesAsync(context.Storage, chunk, context.CancellationToken)).Count(l =&gt; l.Contains("ERROR"));
/// </code>
/// </example>
public static class StorageInput
{
    /// <summary>The largest chunk: a call reads its range (and the rest of its last line) into one array.</summary>
    public const long MaxChunkBytes = 1L << 30;

    /// <summary>
    /// How far past its range a chunk reads at most to finish its last line: a longer line (or an object with no line
    /// breaks at all, cut into several chunks) is refused rather than read whole by one call.
    /// </summary>
    public const long MaxLineRunOnBytes = 1L << 30;

    /// <summary>The most a chunk reads past its range at first for the end of its last line (then twice as far each time).</summary>
    private const int FirstLookAhead = 64 * 1024;

    /// <summary>
    /// The chunks of the objects whose keys start with <paramref name="prefix"/>, in key order: each object cut into
    /// ranges of <paramref name="chunkBytes"/> bytes (the last one shorter); an empty object has none.
    /// </summary>
    /// <param name="store">The store holding the objects, usually <c>Cloud.Storage</c>, whose calls read the same key space through <see cref="RemoteContext.Storage"/>.</param>
    /// <param name="prefix">The keys' prefix, for example <c>logs/</c>; empty for every object.</param>
    /// <param name="chunkBytes">The size of a range: 1 to <see cref="MaxChunkBytes"/>.</param>
    /// <param name="cancellationToken">Stops the listing.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkBytes"/> is below 1 or above <see cref="MaxChunkBytes"/>.</exception>
    public static IAsyncEnumerable<ObjectChunk> Split(IObjectStore store, string prefix, long chunkBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkBytes, MaxChunkBytes);
        return SplitCore(store, prefix, chunkBytes, cancellationToken);
    }

    private static async IAsyncEnumerable<ObjectChunk> SplitCore(IObjectStore store, string prefix, long chunkBytes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (ObjectInfo item in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            for (long at = 0; at < item.Size; at += chunkBytes)
            {
                yield return new ObjectChunk(item.Key, at, Math.Min(chunkBytes, item.Size - at));
            }
        }
    }

    /// <summary>
    /// Reads the lines <paramref name="chunk"/> owns, as bytes: from the first line that starts inside its range
    /// (at <see cref="ObjectChunk.Offset"/> 0, or just after a <c>\n</c>) to the <c>\n</c> that ends the last one, read
    /// past the range when that line runs on (or to the object's end). Empty when no line starts inside the range, and
    /// for a chunk of length 0 (which reads nothing).
    /// </summary>
    /// <param name="store">The store holding the object (in a call, <see cref="RemoteContext.Storage"/>).</param>
    /// <param name="chunk">The chunk.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="ArgumentOutOfRangeException">The chunk's offset or length is negative, its length above <see cref="MaxChunkBytes"/>, or its end past the largest offset.</exception>
    /// <exception cref="KeyNotFoundException">The object does not exist (deleted since the split, say).</exception>
    /// <exception cref="InvalidDataException">The chunk's last line runs on more than <see cref="MaxLineRunOnBytes"/> past its range.</exception>
    public static Task<byte[]> ReadAsync(IObjectStore store, ObjectChunk chunk, CancellationToken cancellationToken = default) =>
        ReadWithinAsync(store, chunk, MaxLineRunOnBytes, cancellationToken);

    /// <summary><see cref="ReadAsync"/> with another bound on the last line's run past the range (tests).</summary>
    internal static async Task<byte[]> ReadWithinAsync(IObjectStore store, ObjectChunk chunk, long maxRunOn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Offset < 0 || chunk.Length < 0 || chunk.Length > MaxChunkBytes || chunk.Offset > long.MaxValue - chunk.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(chunk), chunk,
                $"A chunk's offset and length are 0 or more, its length at most {MaxChunkBytes} bytes, and its end at most {long.MaxValue}.");
        }

        if (chunk.Length == 0)
        {
            return [];
        }

        // From the byte before the range (is it the end of a line?) to the range's last byte.
        long from = chunk.Offset == 0 ? 0 : chunk.Offset - 1;
        int span = (int)(chunk.Offset + chunk.Length - from);
        byte[] head = await store.GetRangeAsync(chunk.Key, from, span, cancellationToken).ConfigureAwait(false) ?? throw Missing(chunk);
        int start = 0;
        if (chunk.Offset > 0)
        {
            int newline = head.AsSpan().IndexOf((byte)'\n');
            if (newline < 0 || newline + 1 >= span)
            {
                // The line running through the range started before it (or the next one starts after it).
                return [];
            }

            start = newline + 1;
        }

        if (head.Length < span || head[span - 1] == (byte)'\n')
        {
            // The object ends inside the range (it shrank since the split), or the range ends with its last line.
            return start == 0 ? head : head.AsSpan(start).ToArray();
        }

        // The last line runs on past the range: read on, in growing steps (first about the chunk's own size), until
        // its newline or the object's end.
        var tail = new List<byte[]>();
        long tailBytes = 0;
        long at = from + span;
        int step = (int)Math.Clamp(chunk.Length, 4 * 1024, FirstLookAhead);
        while (true)
        {
            byte[] more = await store.GetRangeAsync(chunk.Key, at, step, cancellationToken).ConfigureAwait(false) ?? throw Missing(chunk);
            int newline = more.AsSpan().IndexOf((byte)'\n');
            if (newline >= 0)
            {
                tail.Add(more.AsSpan(0, newline + 1).ToArray());
                tailBytes += newline + 1;
                break;
            }

            tail.Add(more);
            tailBytes += more.Length;
            if (more.Length < step)
            {
                break;
            }

            if (tailBytes >= maxRunOn)
            {
                throw new InvalidDataException($"The last line of the chunk of '{chunk.Key}' at {chunk.Offset} runs on more than {maxRunOn} bytes past the chunk: "
                    + "is the object text with line breaks?");
            }

            at += more.Length;
            step = (int)Math.Min(step * 2L, 16 * 1024 * 1024);
        }

        byte[] lines = new byte[head.Length - start + tailBytes];
        head.AsSpan(start).CopyTo(lines);
        int written = head.Length - start;
        foreach (byte[] part in tail)
        {
            part.CopyTo(lines, written);
            written += part.Length;
        }

        return lines;
    }

    /// <summary>
    /// Reads the lines <paramref name="chunk"/> owns (see <see cref="ReadAsync"/>) as UTF-8 text, without their line
    /// endings (<c>\n</c> or <c>\r\n</c>) and without the object's byte order mark, if it has one.
    /// </summary>
    /// <param name="store">The store holding the object (in a call, <see cref="RemoteContext.Storage"/>).</param>
    /// <param name="chunk">The chunk.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="ArgumentOutOfRangeException">The chunk's offset or length is negative, its length above <see cref="MaxChunkBytes"/>, or its end past the largest offset.</exception>
    /// <exception cref="KeyNotFoundException">The object does not exist.</exception>
    /// <exception cref="InvalidDataException">The chunk's last line runs on more than <see cref="MaxLineRunOnBytes"/> past its range.</exception>
    public static async Task<IReadOnlyList<string>> ReadLinesAsync(IObjectStore store, ObjectChunk chunk, CancellationToken cancellationToken = default)
    {
        byte[] bytes = await ReadAsync(store, chunk, cancellationToken).ConfigureAwait(false);
        var lines = new List<string>();
        ReadOnlySpan<byte> rest = bytes;
        if (chunk.Offset == 0 && rest.StartsWith(Encoding.UTF8.Preamble))
        {
            rest = rest[Encoding.UTF8.Preamble.Length..];
        }

        while (!rest.IsEmpty)
        {
            int newline = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = newline < 0 ? rest : rest[..newline];
            if (newline >= 0 && !line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            lines.Add(Encoding.UTF8.GetString(line));
            rest = newline < 0 ? [] : rest[(newline + 1)..];
        }

        return lines;
    }

    private static KeyNotFoundException Missing(ObjectChunk chunk) =>
        new($"The object '{chunk.Key}' of the chunk at {chunk.Offset} does not exist (deleted since the input was split?).");
}
