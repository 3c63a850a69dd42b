using Neutral.Storage;
using Neutral.Testing;
using Neutral.Workers.Storage;

namespace Neutral.Tests;

public sealed class FileSystemStoreContractTests : ObjectStoreContract, System.IDisposable
{
    private readonly TempFolder _folder = new("neutral-fs");

    public FileSystemStoreContractTests() => Store = new FileSystemObjectStore(_folder.Path);

    protected override IObjectStore Store { get; }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The user key space over the file-system store passes the same contract.</summary>
public sealed class UserKeySpaceContractTests : ObjectStoreContract, System.IDisposable
{
    private readonly TempFolder _folder = new("neutral-user");

    public UserKeySpaceContractTests() => Store = new UserObjectStore(new FileSystemObjectStore(_folder.Path), Cloud.InternalPrefix);

    protected override IObjectStore Store { get; }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async System.Threading.Tasks.Task Keys_under_the_internal_prefix_are_refused_and_hidden()
    {
        var root = new FileSystemObjectStore(_folder.Path);
        await root.PutAsync(Cloud.InternalPrefix + "jobs/x/job.json", new byte[] { 1 });
        await root.PutAsync("visible", new byte[] { 2 });
        var error = await Assert.ThrowsAsync<System.ArgumentException>(() => Store.PutAsync(Cloud.InternalPrefix + "jobs/y", new byte[] { 1 }));
        Assert.Contains("Neutral keeps for its job data", error.Message);
        var keys = new System.Collections.Generic.List<string>();
        await foreach (var info in Store.ListAsync(""))
        {
            keys.Add(info.Key);
        }

        Assert.Equal(["visible"], keys);
    }
}

/// <summary>The internal key space (a prefix view) passes the same contract.</summary>
public sealed class PrefixedStoreContractTests : ObjectStoreContract, System.IDisposable
{
    private readonly TempFolder _folder = new("neutral-prefixed");

    public PrefixedStoreContractTests() => Store = new PrefixedObjectStore(new FileSystemObjectStore(_folder.Path), Cloud.InternalPrefix);

    protected override IObjectStore Store { get; }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The simulated cloud's in-memory store passes the contract its results depend on.</summary>
public sealed class InMemoryStoreContractTests : ObjectStoreContract
{
    protected override IObjectStore Store { get; } = new InMemoryObjectStore();
}
