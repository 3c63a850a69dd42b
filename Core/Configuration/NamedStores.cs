using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Configuration;

namespace Neutral;

/// <summary>
/// <c>Neutral:Stores</c>: the job's other stores, each <c>Neutral:Stores:{name}:Kind</c> naming a store kind whose
/// settings come from the kind's own section. One store per kind's settings: two Redis stores with different servers
/// are not supported yet (a named store has no settings of its own).
/// </summary>
internal static class NamedStores
{
    public const string Section = "Stores";

    public static void Read(IConfigurationSection stores, IDictionary<string, string> into)
    {
        foreach (IConfigurationSection store in stores.GetChildren())
        {
            string prefix = NeutralConfiguration.Section + ":" + Section + ":" + store.Key;
            foreach (IConfigurationSection key in store.GetChildren())
            {
                if (!string.Equals(key.Key, "Kind", StringComparison.OrdinalIgnoreCase))
                {
                    throw new NeutralConfigurationException(prefix + ":" + key.Key, key.Value,
                        $"a named store has one key, Kind; it takes its settings from its kind's section (Neutral:Redis for redis, Neutral:Aws for s3, ...). Use {prefix}:Kind.");
                }
            }

            into[store.Key] = store["Kind"] ?? store.Value ?? throw new NeutralConfigurationException(prefix + ":Kind", store.Value,
                $"it is required: the kind of store '{store.Key}' (redis, s3, azureblob, minio, local), e.g. {prefix}:Kind=redis.");
        }
    }

    public static void Check(NeutralOptions options)
    {
        foreach (KeyValuePair<string, string> store in options.Stores)
        {
            string key = NeutralConfiguration.Section + ":" + Section + ":" + store.Key + ":Kind";
            if (store.Key.Length == 0 || store.Key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                throw new NeutralConfigurationException(NeutralConfiguration.Section + ":" + Section + ":" + store.Key, store.Value, "a store's name holds only ASCII letters, digits, '-' and '_'.");
            }

            if (string.IsNullOrWhiteSpace(store.Value))
            {
                throw new NeutralConfigurationException(key, store.Value, "it must name a store kind: " + string.Join(", ", options.Providers.StorageNames) + ".");
            }
        }
    }
}
