using System;
using System.IO;
using System.Threading.Tasks;
using Neutral.Testing;

namespace Neutral.Tests;

/// <summary>A cloud on the local provider over a fresh folder, both disposed together.</summary>
internal sealed class LocalCloud : IAsyncDisposable
{
    private readonly TempFolder _folder = new("neutral-cloud");

    public LocalCloud(string isolation = "process", int workers = 2, Action<NeutralOptions>? configure = null)
    {
        Cloud = Cloud.Connect(o =>
        {
            o.Local.Root = _folder.Path;
            o.Local.Isolation = isolation;
            o.Local.Workers = workers;
            configure?.Invoke(o);
        });
    }

    public Cloud Cloud { get; }

    public string Root => _folder.Path;

    public string JobsFolder => Path.Combine(_folder.Path, "_neutral", "jobs");

    /// <summary>Where the store keeps jobs' control objects (statuses, markers, manifests): memory, unless Local:JobData is disk.</summary>
    public string ControlJobsFolder => Path.Combine(Workers.Storage.FileSystemObjectStore.DefaultControlRoot(_folder.Path) ?? _folder.Path, "_neutral", "jobs");

    public async ValueTask DisposeAsync()
    {
        await Cloud.DisposeAsync();
        _folder.Dispose();
    }
}
