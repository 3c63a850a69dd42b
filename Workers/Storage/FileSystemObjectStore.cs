using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Workers.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> over a folder: keys are relative paths. Writes are atomic (a temporary file renamed
/// into place), and <see cref="TryCreateAsync"/> is a real create-only operation (a hard link, which fails if the
/// target exists), so two processes racing to create a status object cannot both win.
/// </summary>
public sealed class FileSystemObjectStore : IObjectStore, IBulkDeletingObjectStore
{
    private readonly string _root;

    /// <summary>Opens (and creates) the store's folder.</summary>
    /// <exception cref="IOException">The folder cannot be created or written.</exception>
    public FileSystemObjectStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    /// <summary>The store's folder.</summary>
    public string Root => _root;

    /// <summary>Checks that the folder can be written; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> otherwise.</summary>
    public void EnsureWritable()
    {
        string probe = Path.Combine(_root, "." + Guid.NewGuid().ToString("N") + ObjectKeys.TemporarySuffix);
        File.WriteAllBytes(probe, []);
        File.Delete(probe);
    }

    private string PathOf(string key)
    {
        ObjectKeys.Validate(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    private static string TempBeside(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ObjectKeys.TemporarySuffix);

    private static async Task<string> WriteTempAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = TempBeside(path);
        using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, data.Length))
        {
            await RandomAccess.WriteAsync(handle, data, 0, cancellationToken).ConfigureAwait(false);
        }

        return temp;
    }

    /// <inheritdoc/>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        string temp = await WriteTempAsync(path, data, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        if (File.Exists(path))
        {
            return false;
        }

        string temp = await WriteTempAsync(path, data, cancellationToken).ConfigureAwait(false);
        try
        {
            // File.CreateSymbolicLink would not do: a hard link is the atomic "create if absent" of POSIX file systems.
            if (HardLink.TryCreate(temp, path))
            {
                return true;
            }

            return false;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        string path = PathOf(key);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            long size = RandomAccess.GetLength(handle);
            int count = (int)Math.Clamp(size - offset, 0, length);
            byte[] buffer = new byte[count];
            int read = 0;
            while (read < count)
            {
                int n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read), offset + read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    Array.Resize(ref buffer, read);
                    break;
                }

                read += n;
            }

            return buffer;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        await Task.Yield();
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? _root : Path.Combine(_root, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var found = new List<ObjectInfo>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None };
        foreach (FileInfo file in new DirectoryInfo(folder).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Name.EndsWith(ObjectKeys.TemporarySuffix, StringComparison.Ordinal))
            {
                continue;
            }

            string key = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                long size;
                try
                {
                    size = file.Length;
                }
                catch (FileNotFoundException)
                {
                    continue; // deleted while listing
                }

                found.Add(new ObjectInfo(key, size));
            }
        }

        foreach (ObjectInfo info in found.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            yield return info;
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        try
        {
            File.Delete(path);
            return Task.FromResult(true);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }
    }

    /// <inheritdoc/>
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        if (prefix.EndsWith('/'))
        {
            // A whole folder: one recursive delete.
            string folder = Path.Combine(_root, prefix.TrimEnd('/').Replace('/', Path.DirectorySeparatorChar));
            if (prefix.Length > 0 && Directory.Exists(folder))
            {
                int count = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count();
                Directory.Delete(folder, recursive: true);
                return count;
            }
        }

        int deleted = 0;
        var keys = new List<string>();
        await foreach (ObjectInfo info in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(info.Key);
        }

        foreach (string key in keys)
        {
            deleted += await DeleteAsync(key, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        return deleted;
    }
}
