using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Neutral.Providers.Azure.Tests;

public static class BlobFunctions
{
    [Remote] public static long Square(int x) => (long)x * x;

    [Remote]
    public static async Task<int> WriteThrough(int x, RemoteContext context)
    {
        await context.Storage.PutAsync($"user/{x}", BitConverter.GetBytes(x), context.CancellationToken);
        return x;
    }
}

/// <summary><c>Compute=local, Storage=azureblob</c>: the whole protocol against Azurite's Blob service, in worker processes.</summary>
public sealed class LocalComputeBlobTests(BlobContainer container) : IClassFixture<BlobContainer>
{
    private Cloud Connect(params (string Key, string Value)[] extra)
    {
        AzureProvider.Register();
        return Cloud.Connect(container.Configuration([("Neutral:Compute", "local"), ("Neutral:Local:Workers", "2"), .. extra]));
    }

    [Fact]
    public async Task A_map_runs_in_worker_processes_against_the_container_and_leaves_only_user_data()
    {
        await using (Cloud cloud = Connect())
        {
            long[] squares = await cloud.MapAsync(Enumerable.Range(0, 40), i => Remote.BlobFunctions.Square(i));
            Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i * i), squares);
            int[] written = await cloud.MapAsync(Enumerable.Range(0, 5), i => Remote.BlobFunctions.WriteThrough(i));
            Assert.Equal([0, 1, 2, 3, 4], written);
            Assert.Equal(BitConverter.GetBytes(3), await cloud.Storage.GetAsync("user/3"));
        }

        var left = await container.Store.ListAsync("").Select(o => o.Key).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => "user/" + i).Order(StringComparer.Ordinal), left.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_DI_way_registers_the_provider_with_AddAzure()
    {
        await using ServiceProvider services = new ServiceCollection()
            .AddNeutral(container.Configuration(("Neutral:Compute", "local"), ("Neutral:Local:Workers", "1")))
            .AddAzure()
            .Services.BuildServiceProvider();
        Cloud cloud = services.GetRequiredService<Cloud>();
        Assert.Equal(new long[] { 0, 1, 4 }, await cloud.MapAsync(Enumerable.Range(0, 3), i => Remote.BlobFunctions.Square(i)));
    }

    [Theory]
    [InlineData("Neutral:Azure:ConnectionString", "", "Neutral:Azure:ConnectionString", "or set AccountUrl to sign in with Entra ID")]
    [InlineData("Neutral:Azure:ConnectionString", "AccountName=x;Nonsense", "Neutral:Azure:ConnectionString", "is not a storage connection string")]
    [InlineData("Neutral:Azure:AccountUrl", "https://x.blob.core.windows.net/", "Neutral:Azure:AccountUrl", "ConnectionString is set too")]
    [InlineData("Neutral:Azure:Container", "Not_A_Container", "Neutral:Azure:Container", "lowercase letters, digits and single hyphens")]
    [InlineData("Neutral:Azure:Container", "", "Neutral:Azure:Container", "the Blob container")]
    public void A_wrong_setting_fails_at_connect_naming_the_key(string key, string value, string named, string why)
    {
        var configuration = container.Configuration(("Neutral:Compute", "local"), (key, value));
        AzureProvider.Register();
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(configuration));
        Assert.Equal(named, error.Key);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobContainer.AccountKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_container_that_cannot_be_reached_fails_ConnectAsync_naming_where_and_Connect_does_not_wait_for_it()
    {
        // The Blob endpoint moved to a port nothing listens on, wherever the test Azurite runs.
        string nowhere = container.ConnectionString.Replace(container.Settings.ServiceUri().Authority + "/", "127.0.0.1:9/", StringComparison.Ordinal);
        var configuration = container.Configuration(("Neutral:Compute", "local"), ("Neutral:Azure:ConnectionString", nowhere));
        AzureProvider.Register();
        // Connect does no network I/O: the container is checked in the background, and the first job fails with it.
        await using (Cloud cloud = Cloud.Connect(configuration))
        {
            var failed = await Assert.ThrowsAsync<RemoteJobException>(() => cloud.MapAsync(new[] { 1 }, i => Remote.BlobFunctions.Square(i)));
            Assert.Contains("the container could not be used", Assert.Single(failed.Failures).Message, StringComparison.Ordinal);
        }

        var error = await Assert.ThrowsAsync<NeutralConfigurationException>(() => Cloud.ConnectAsync(configuration));
        Assert.Equal("Neutral:Azure:Container", error.Key);
        Assert.Contains("127.0.0.1:9/devstoreaccount1/" + container.Name, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobContainer.AccountKey, error.Message, StringComparison.Ordinal);
    }
}
