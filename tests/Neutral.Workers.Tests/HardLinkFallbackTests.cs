using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Workers.Storage;

namespace Neutral.Workers.Tests;

/// <summary>The fallback paths change process-wide state: their tests run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HardLinkFallbacks
{
    public const string Name = "HardLink fallbacks";
}

/// <summary>
/// Takes the file-system store down the paths of systems without renameat2 (macOS: the P/Invoke throws
/// <see cref="EntryPointNotFoundException"/>) or without hard links, on Linux, until disposed.
/// </summary>
internal sealed class MissingSystemCalls : IDisposable
{
    private readonly Func<string, string, int> _renameat2 = HardLink.Renameat2Call;
    private readonly Func<string, string, int> _link = HardLink.LinkCall;

    public MissingSystemCalls(bool noHardLinks)
    {
        HardLink.Renameat2Call = static (_, _) => throw new EntryPointNotFoundException("Unable to find an entry point named 'renameat2' in shared library 'libc'.");
        if (noHardLinks)
        {
            HardLink.LinkCall = static (_, _) =>
            {
                Marshal.SetLastPInvokeError(1); // EPERM: what FAT answers
                return -1;
            };
        }

        HardLink.Current = HardLink.Method.Renameat2;
    }

    public void Dispose()
    {
        HardLink.Renameat2Call = _renameat2;
        HardLink.LinkCall = _link;
        HardLink.Current = HardLink.Method.Renameat2;
    }
}

[Collection(HardLinkFallbacks.Name)]
public sealed class HardLinkFallbackTests : IDisposable
{
    private readonly TempFolder _folder = new("neutral-hardlink");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Create_only_holds_without_renameat2(bool noHardLinks)
    {
        HardLink.Method expected = noHardLinks ? HardLink.Method.ExclusiveCreate : HardLink.Method.Link;
        using var missing = new MissingSystemCalls(noHardLinks);
        var store = new FileSystemObjectStore(_folder.Path);

        Assert.True(await store.TryCreateAsync("calls/000000/status", Encoding.UTF8.GetBytes("first")));
        Assert.Equal(expected, HardLink.Current);
        Assert.False(await store.TryCreateAsync("calls/000000/status", Encoding.UTF8.GetBytes("second")));
        Assert.Equal("first", Encoding.UTF8.GetString((await store.GetAsync("calls/000000/status"))!));

        for (int round = 0; round < 5; round++)
        {
            string key = $"race/{round}/status";
            bool[] won = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => store.TryCreateAsync(key, Encoding.UTF8.GetBytes("writer " + i)))));
            Assert.Equal(1, won.Count(w => w));
            Assert.Equal("writer " + Array.IndexOf(won, true), Encoding.UTF8.GetString((await store.GetAsync(key))!));
        }

        // Losers leave no temporary file behind.
        Assert.Equal(6, Directory.EnumerateFiles(_folder.Path, "*", SearchOption.AllDirectories).Count());
        Assert.Equal(expected, HardLink.Current);
    }
}

/// <summary>The whole store contract on the link(2) path, as on macOS.</summary>
[Collection(HardLinkFallbacks.Name)]
public sealed class LinkFallbackStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly TempFolder _folder = new("neutral-link");
    private readonly MissingSystemCalls _missing = new(noHardLinks: false);

    public LinkFallbackStoreContractTests() => Store = new FileSystemObjectStore(_folder.Path);

    protected override IObjectStore Store { get; }

    public void Dispose()
    {
        _missing.Dispose();
        _folder.Dispose();
    }
}

/// <summary>The whole store contract on the exclusive-create path, for file systems without hard links.</summary>
[Collection(HardLinkFallbacks.Name)]
public sealed class ExclusiveCreateStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly TempFolder _folder = new("neutral-excl");
    private readonly MissingSystemCalls _missing = new(noHardLinks: true);

    public ExclusiveCreateStoreContractTests() => Store = new FileSystemObjectStore(_folder.Path);

    protected override IObjectStore Store { get; }

    public void Dispose()
    {
        _missing.Dispose();
        _folder.Dispose();
    }
}
