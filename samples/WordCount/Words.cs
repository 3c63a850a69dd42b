using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Neutral;

namespace WordCount;

/// <summary>The remote half of the word count: one call per chunk of stored text.</summary>
public static class Words
{
    /// <summary>Counts the words (lower-cased, split on spaces and tabs) in the lines <paramref name="chunk"/> owns.</summary>
    [Remote]
    public static async Task<Dictionary<string, long>> Count(ObjectChunk chunk, RemoteContext context)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in await StorageInput.ReadLinesAsync(context.Storage, chunk, context.CancellationToken))
        {
            foreach (string word in line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string key = word.ToLowerInvariant();
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }

        return counts;
    }
}
