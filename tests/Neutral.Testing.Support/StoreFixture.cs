using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace Neutral.Testing;

/// <summary>
/// A store of a test class's own on one of the servers scripts/services.sh starts (a bucket or a container named
/// <see cref="Name"/>): the server is checked to answer before the store is created, the store is emptied and removed at
/// the end, and <see cref="Configuration"/> names it the way a user's configuration would.
/// </summary>
public abstract class StoreFixture : IAsyncLifetime
{
    /// <summary>The bucket's or container's name, new for each fixture.</summary>
    public string Name { get; } = "neutral-test-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The store (after <see cref="InitializeAsync"/>).</summary>
    public abstract IObjectStore Store { get; }

    /// <summary>What the server is ("S3 server", "Blob service"), for the message when it does not answer.</summary>
    protected abstract string ServerKind { get; }

    /// <summary>Where the server answers an unsigned GET.</summary>
    protected abstract Uri ServerAddress { get; }

    /// <summary>The settings that name this store (<c>Neutral:Storage</c> and the provider's section).</summary>
    protected abstract IEnumerable<KeyValuePair<string, string?>> StoreSettings();

    /// <summary>Creates the bucket or container.</summary>
    protected abstract Task CreateAsync();

    /// <summary>Empties and removes the bucket or container.</summary>
    protected abstract Task RemoveAsync();

    /// <summary>Restarts the server this store is on, mid-job; only a store on a restartable server can.</summary>
    public virtual void RestartServer() => throw new NotSupportedException($"{GetType().Name} is not on a restartable server.");

    /// <summary>Configuration naming this store, plus <paramref name="values"/> (later ones win).</summary>
    public IConfiguration Configuration(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string?>(StoreSettings());
        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(all).Build();
    }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        using (var http = new HttpClient())
        {
            try
            {
                await http.GetAsync(ServerAddress);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException(
                    $"No {ServerKind} answers at {ServerAddress}: start the test servers with `bash scripts/services.sh start` (scripts/test.sh does it). {e.Message}", e);
            }
        }

        await CreateAsync();
    }

    /// <inheritdoc/>
    public Task DisposeAsync() => RemoveAsync();
}
