using System;
using System.Collections.Generic;
using StackExchange.Redis;

namespace Neutral.Providers.Redis;

/// <summary>
/// Where an object key lives in Redis. Redis has no folders and no ordered listing of keys, so each folder of the
/// key space keeps an index: a sorted set (all scores 0, ordered by bytes) of its objects' names and its sub-folders'
/// names with a trailing '/'. Listing a prefix reads the indexes under it, never the whole keyspace.
/// </summary>
/// <remarks>
/// A folder's objects and its index share a hash tag (<c>{/folder/}</c>), so on a Redis Cluster they sit in one slot
/// and a Lua script writes an object and its index entry atomically. Distinct folders spread over the cluster: put
/// data that many calls write at once in folders of their own (the call protocol does: one folder per call).
/// <code>
/// {keyPrefix}{/a/b/}o:c.txt    the object a/b/c.txt (a Redis string)
/// {keyPrefix}{/a/b/}i          the index of folder a/b/: members "c.txt", "d/"
/// {keyPrefix}{/}i              the index of the root folder: member "a/"
/// </code>
/// The key prefix holds no '{' or '}', so the hash tag is the same for every key of a folder whatever its name holds.
/// </remarks>
internal sealed class RedisLayout
{
    public RedisLayout(string keyPrefix)
    {
        if (keyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            throw new ArgumentException($"The key prefix '{keyPrefix}' may not hold '{{' or '}}' (Redis Cluster reads them as a hash tag).", nameof(keyPrefix));
        }

        KeyPrefix = keyPrefix;
    }

    /// <summary>What every key Neutral writes in the database starts with.</summary>
    public string KeyPrefix { get; }

    /// <summary>The folder part of <paramref name="key"/> (up to and with its last '/', or empty) and the name after it.</summary>
    public static (string Folder, string Name) Split(string key)
    {
        int slash = key.LastIndexOf('/');
        return (key[..(slash + 1)], key[(slash + 1)..]);
    }

    /// <summary>The Redis string holding object <paramref name="name"/> of <paramref name="folder"/>.</summary>
    public RedisKey Value(string folder, string name) => string.Concat(KeyPrefix, "{/", folder, "}o:", name);

    /// <summary>The index (sorted set) of <paramref name="folder"/>.</summary>
    public RedisKey Index(string folder) => string.Concat(KeyPrefix, "{/", folder, "}i");

    /// <summary>
    /// The folder entries that make <paramref name="folder"/> reachable from the root: for <c>a/b/</c>,
    /// (<c>""</c>, <c>a/</c>) and (<c>a/</c>, <c>b/</c>), outermost first.
    /// </summary>
    public static IEnumerable<(string Parent, string Entry)> Ancestry(string folder)
    {
        int start = 0;
        while (start < folder.Length)
        {
            int slash = folder.IndexOf('/', start);
            yield return (folder[..start], folder[start..(slash + 1)]);
            start = slash + 1;
        }
    }

    /// <summary>The folder that holds <paramref name="folder"/>'s entry, and that entry (<c>a/b/</c> → <c>a/</c>, <c>b/</c>).</summary>
    public static (string Parent, string Entry) Parent(string folder)
    {
        int slash = folder.LastIndexOf('/', folder.Length - 2);
        return (folder[..(slash + 1)], folder[(slash + 1)..]);
    }
}
