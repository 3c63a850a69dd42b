using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

/// <summary>The store contract, through Azure.Storage.Blobs, against Azurite.</summary>
public sealed class BlobStoreContractTests(BlobContainer container) : ObjectStoreContract, IClassFixture<BlobContainer>
{
    protected override IObjectStore Store => container.Store;

    protected override int ConcurrentWriters => 32;
}

/// <summary>What the contract does not cover: large blobs in blocks, a large create-only write, credentials.</summary>
public sealed class BlobStoreTests(BlobContainer container) : IClassFixture<BlobContainer>
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_blob_of_64_MiB_and_more_goes_in_blocks_and_comes_back_whole_and_in_ranges()
    {
        string key = await LargeObjects.RoundTripAsync(container.Store, BlobObjectStore.LargeObject, BlobObjectStore.PartSize, async key =>
        {
            // Written as blocks: the committed block list has five of them.
            BlobContainerClient client = new BlobServiceClient(container.ConnectionString).GetBlobContainerClient(container.Name);
            BlockList blocks = (await client.GetBlockBlobClient(key).GetBlockListAsync(BlockListTypes.Committed)).Value;
            Assert.Equal(5, blocks.CommittedBlocks.Count());
        });
        await container.Store.DeleteAsync(key);
    }

    [Fact]
    public async Task A_large_create_only_write_loses_to_an_existing_blob_and_leaves_it_unchanged()
    {
        string key = "large-race/" + Guid.NewGuid().ToString("N");
        Assert.True(await container.Store.TryCreateAsync(key, Bytes("first")));
        byte[] large = new byte[BlobObjectStore.LargeObject + 1];
        Assert.False(await container.Store.TryCreateAsync(key, large));
        Assert.Equal(Bytes("first"), await container.Store.GetAsync(key));
    }

    [Fact]
    public async Task A_wrong_account_key_is_refused_by_the_server_and_writes_nothing()
    {
        string wrong = container.ConnectionString.Replace(BlobContainer.AccountKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);
        using var store = new BlobObjectStore(new BlobSettings(container.Name, wrong));
        var put = await Assert.ThrowsAsync<RequestFailedException>(() => store.PutAsync("denied/put", Bytes("x")));
        Assert.Equal(403, put.Status);
        await Assert.ThrowsAsync<RequestFailedException>(() => store.TryCreateAsync("denied/create", Bytes("x")));

        Assert.Null(await container.Store.GetAsync("denied/create"));
        Assert.Null(await container.Store.GetAsync("denied/put"));
    }

    [Fact]
    public void Settings_print_where_the_container_is_and_never_the_key()
    {
        Assert.EndsWith($"/devstoreaccount1/{container.Name}", container.Settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(BlobContainer.AccountKey, container.Settings.ToString(), StringComparison.Ordinal);
    }
}
