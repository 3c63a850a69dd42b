using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Enumeration;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
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

    /// <summary>Small objects are written and read synchronously: cheaper than a thread-pool hop for a local file.</summary>
    private const int SynchronousLimit = 1 << 20;

    private static async Task<string> WriteTempAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        string temp = TempBeside(path);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, data.Length);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            // ENOENT: the folder is missing (reported as FileNotFound when another writer creates it meanwhile).
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, data.Length);
        }

        using (handle)
        {
            if (data.Length <= SynchronousLimit)
            {
                RandomAccess.Write(handle, data.Span, 0);
            }
            else
            {
                await RandomAccess.WriteAsync(handle, data, 0, cancellationToken).ConfigureAwait(false);
            }
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
        if (HardLink.TryMoveNoReplace(temp, path))
        {
            return true;
        }

        File.Delete(temp);
        return false;
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(handle);
            if (length > int.MaxValue)
            {
                throw new IOException($"Object '{key}' is {length} bytes; objects read whole are limited to 2 GiB. Read it by ranges.");
            }

            return await ReadAsync(handle, 0, (int)length, cancellationToken).ConfigureAwait(false);
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
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long size = RandomAccess.GetLength(handle);
            return await ReadAsync(handle, offset, (int)Math.Clamp(size - offset, 0, length), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes from <paramref name="offset"/> (fewer if the file shrank meanwhile).</summary>
    private static async Task<byte[]> ReadAsync(SafeFileHandle handle, long offset, int count, CancellationToken cancellationToken)
    {
        byte[] data = GC.AllocateUninitializedArray<byte>(count);
        int read = 0;
        while (read < count)
        {
            int n = count - read <= SynchronousLimit
                ? RandomAccess.Read(handle, data.AsSpan(read), offset + read)
                : await RandomAccess.ReadAsync(handle, data.AsMemory(read), offset + read, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                Array.Resize(ref data, read);
                break;
            }

            read += n;
        }

        return data;
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

        string root = _root;
        var found = new FileSystemEnumerable<ObjectInfo>(
            folder,
            (ref FileSystemEntry entry) => new ObjectInfo(
                Path.GetRelativePath(root, entry.ToFullPath()).Replace(Path.DirectorySeparatorChar, '/'), entry.Length),
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None })
        {
            // Temporary files and folders being deleted (renamed with the temporary suffix) are not objects.
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !entry.FileName.EndsWith(ObjectKeys.TemporarySuffix, StringComparison.Ordinal),
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory && !entry.FileName.EndsWith(ObjectKeys.TemporarySuffix, StringComparison.Ordinal),
        }
        .Where(info => info.Key.StartsWith(prefix, StringComparison.Ordinal))
        .ToList();
        cancellationToken.ThrowIfCancellationRequested();

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
                // Renamed away first, so the objects disappear at once for every reader; then removed.
                string trash = folder + "." + Guid.NewGuid().ToString("N") + ObjectKeys.TemporarySuffix;
                Directory.Move(folder, trash);
                int count = Directory.EnumerateFiles(trash, "*", SearchOption.AllDirectories).Count();
                Directory.Delete(trash, recursive: true);
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
