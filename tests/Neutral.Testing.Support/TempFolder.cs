using System;
using System.IO;

namespace Neutral.Testing;

/// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string name = "neutral")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), name + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        // A local store at this folder keeps jobs' control objects in memory, in a folder of its own.
        if (Neutral.Workers.Storage.FileSystemObjectStore.DefaultControlRoot(Path) is { } control && Directory.Exists(control))
        {
            try
            {
                Directory.Delete(control, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }
}
