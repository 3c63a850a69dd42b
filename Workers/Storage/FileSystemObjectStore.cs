using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Enumeration;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Workers.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> over a folder: keys are relative paths. Writes are atomic (a temporary file renamed
/// into place), and <see cref="TryCreateAsync"/> is a real create-only operation (a hard link, which fails if the
/// target exists), so two processes racing to create a status object cannot both win.
/// </summary>
/// <remarks>
/// A key the file system cannot represent is refused with an <see cref="ArgumentException"/> that names the key, never
/// the folder: a key that is also a folder of other keys ('a' beside 'a/b'), and a path segment over 255 bytes in UTF-8.
/// Reading such a key finds nothing.
/// </remarks>
public sealed class FileSystemObjectStore : IObjectStore, IBulkDeletingObjectStore
{
    private readonly string _root;

    /// <summary>Opens (and creates) the store's folder.</summary>
    /// <exception cref="IOException">The folder cannot be created or written.</exception>
    public FileSystemObjectStore(string root)
        : this(root, null)
    {
    }

    /// <summary>
    /// Creates a store whose jobs' control objects (each call's <c>status</c>, <c>started.{a}</c> and
    /// <c>failed.{a}</c>, and each job's <c>job.json</c>, under <c>_neutral/jobs/</c>) live in <paramref name="controlRoot"/>,
    /// typically a memory-backed folder, and every other object in <paramref name="root"/>. Keys, reads, listings and
    /// deletes are the same either way: only where the files are changes.
    /// </summary>
    /// <param name="root">The store's folder.</param>
    /// <param name="controlRoot">Where jobs' small per-call objects go; <see langword="null"/>: in <paramref name="root"/> too.</param>
    public FileSystemObjectStore(string root, string? controlRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
        if (controlRoot is not null)
        {
            _controlRoot = Path.GetFullPath(controlRoot);
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(_controlRoot);
            }
            else
            {
                Directory.CreateDirectory(_controlRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    private readonly string? _controlRoot;

    /// <summary>The keys whose control objects may live apart: Neutral's jobs.</summary>
    internal const string JobsPrefix = StorageLayout.InternalJobsFolder;

    /// <summary>
    /// The default folder of jobs' control objects for a store at <paramref name="root"/>: a folder of this user's under
    /// <c>/dev/shm</c> named after the root's full path, where that memory-backed file system exists; else
    /// <see langword="null"/> (everything stays in the root).
    /// </summary>
    /// <remarks>
    /// <c>/dev/shm/neutral-{effective user id}/{FNV-1a 64 of the root's full path, in hex}</c>. Every client and worker
    /// computes it as it opens the store, so it costs no more than a string: a SHA-256 loaded OpenSSL (libssl,
    /// libcrypto and its configuration file) and the user's name a user-database lookup, both on a worker's first call
    /// (measured: most of a NativeAOT worker's 11 ms first no-op call, until 2026-11-29). The name is no secret and no
    /// defence: the folder is the user's own, created 0700.
    /// </remarks>
    public static string? DefaultControlRoot(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        const string Shared = "/dev/shm";
        if (OperatingSystem.IsWindows() || !Directory.Exists(Shared))
        {
            return null;
        }

        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(full))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return Path.Combine(Shared, "neutral-" + PosixFiles.EffectiveUserId().ToString(CultureInfo.InvariantCulture), hash.ToString("x16", CultureInfo.InvariantCulture));
    }

    /// <summary>Whether <paramref name="key"/> is a job's control object (kept under the control root when there is one).</summary>
    private bool IsControl(string key)
    {
        if (_controlRoot is null || !key.StartsWith(JobsPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> name = key.AsSpan(key.LastIndexOf('/') + 1);
        return name is "status" or "job.json" || name.StartsWith("started.", StringComparison.Ordinal) || name.StartsWith("failed.", StringComparison.Ordinal)
            || key.Contains("/slots/", StringComparison.Ordinal);
    }

    /// <summary>
    /// Removes the control folder when it holds no objects (the folders a job leaves behind are empty), so that a
    /// closed client leaves nothing in memory. Never removes a folder with a file in it: a concurrent writer loses nothing.
    /// </summary>
    internal void RemoveEmptyControlRoot()
    {
        if (_controlRoot is not null && Directory.Exists(_controlRoot))
        {
            TryRemoveEmptyFolder(_controlRoot);
        }
    }

    private string RootOf(string key) => IsControl(key) ? _controlRoot! : _root;

    /// <summary>The store's folder.</summary>
    public string Root => _root;

    /// <summary>Checks that the folder can be written; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> otherwise.</summary>
    public void EnsureWritable()
    {
        foreach (string folder in Roots)
        {
            string probe = Path.Combine(folder, TempName());
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
    }

    private string[] Roots => _controlRoot is null ? [_root] : [_root, _controlRoot];

    /// <summary>The longest file name, in UTF-8 bytes, that Linux and macOS file systems accept (Windows: 255 UTF-16 units, never more bytes).</summary>
    internal const int MaxSegmentBytes = 255;

    private string PathOf(string key)
    {
        ObjectKeys.Validate(key);
        int start = 0;
        while (start <= key.Length)
        {
            int slash = key.IndexOf('/', start);
            int end = slash < 0 ? key.Length : slash;
            // A UTF-16 unit takes at most 3 UTF-8 bytes: short segments need no count.
            int bytes = end - start <= MaxSegmentBytes / 3 ? 0 : Encoding.UTF8.GetByteCount(key.AsSpan(start, end - start));
            if (bytes > MaxSegmentBytes)
            {
                throw new ArgumentException(
                    $"Object key '{key}' cannot be stored in the file-system store: its path segment '{Abridged(key[start..end])}' is {bytes} bytes in UTF-8, and file names are limited to {MaxSegmentBytes}. Split the name with '/' or shorten it.",
                    nameof(key));
            }

            start = end + 1;
        }

        return Path.Combine(RootOf(key), key.Replace('/', Path.DirectorySeparatorChar));
    }

    private static string Abridged(string segment) => segment.Length <= 40 ? segment : segment[..20] + "…" + segment[^20..];

    /// <summary>
    /// Why a write of <paramref name="key"/> failed when the cause is the key's shape rather than the disk: an object
    /// stands where the key needs a folder, or the key names a folder of other keys. <see langword="null"/> otherwise.
    /// </summary>
    private ArgumentException? Unrepresentable(string key)
    {
        string root = RootOf(key);
        for (int slash = key.IndexOf('/'); slash > 0; slash = key.IndexOf('/', slash + 1))
        {
            string ancestor = key[..slash];
            if (File.Exists(Path.Combine(root, ancestor.Replace('/', Path.DirectorySeparatorChar))))
            {
                return new ArgumentException(
                    $"Object key '{key}' cannot be stored in the file-system store: '{ancestor}' is an object, and a file-system store cannot use an object's name as a folder of keys. Use another key, or delete '{ancestor}' first.",
                    nameof(key));
            }
        }

        if (Directory.Exists(Path.Combine(root, key.Replace('/', Path.DirectorySeparatorChar))))
        {
            return new ArgumentException(
                $"Object key '{key}' cannot be stored in the file-system store: it holds keys under '{key}/', and a file-system store cannot hold an object and a folder of the same name. Use another key, or delete the keys under '{key}/' first.",
                nameof(key));
        }

        return null;
    }

    /// <summary>Removes the folder at <paramref name="path"/> if no file is left under it (deleted keys leave empty folders).</summary>
    private static bool TryRemoveEmptyFolder(string path)
    {
        try
        {
            // Deepest first; a non-recursive delete only ever removes an empty folder, so a concurrent writer loses nothing.
            foreach (string folder in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).OrderByDescending(f => f.Length))
            {
                Directory.Delete(folder);
            }

            Directory.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// A temporary name beside <paramref name="path"/>: a fixed length, so that a key whose last segment is as long as
    /// file names allow still gets one.
    /// </summary>
    private static string TempBeside(string path) => Path.Combine(Path.GetDirectoryName(path)!, TempName());

    private static string TempName() => "." + Guid.NewGuid().ToString("N") + ObjectKeys.TemporarySuffix;

    /// <summary>Small objects are written and read synchronously: cheaper than a thread-pool hop for a local file.</summary>
    private const int SynchronousLimit = 1 << 20;

    // A temporary file has a fresh random name no one else opens: sharing it costs nothing, and spares the advisory
    // lock .NET takes on Unix for FileShare.None (a system call per write).
    private const FileShare TempShare = FileShare.ReadWrite | FileShare.Delete;

    private static async Task<string> WriteTempAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        string temp = TempBeside(path);
        if (PosixFiles.Supported && data.Length <= SynchronousLimit)
        {
            string folder = Path.GetDirectoryName(path)!;
            try
            {
                PosixFiles.WriteNew(temp, data.Span);
            }
            catch (DirectoryNotFoundException)
            {
                if (!PosixFiles.TryMakeFolder(folder))
                {
                    Directory.CreateDirectory(folder);
                }

                PosixFiles.WriteNew(temp, data.Span);
            }

            return temp;
        }
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, TempShare, FileOptions.None, data.Length);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            // ENOENT: the folder is missing (reported as FileNotFound when another writer creates it meanwhile).
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, TempShare, FileOptions.None, data.Length);
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
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(key);
        if (TryWriteInFolder(path, data, noReplace: false))
        {
            return;
        }

        string? temp = null;
        try
        {
            temp = await WriteTempAsync(path, data, cancellationToken).ConfigureAwait(false);
            try
            {
                Replace(temp, path);
            }
            catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && Directory.Exists(path) && TryRemoveEmptyFolder(path))
            {
                // The key's name was a folder of keys since deleted.
                Replace(temp, path);
            }

            temp = null;
        }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && Unrepresentable(key) is { } refused)
        {
            throw refused;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <inheritdoc/>
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(key);
        // No check for an existing object first: the create-only move below answers that, and a second attempt's status
        // is rare where a first's is every call.
        if (TryWriteInFolder(path, data, noReplace: true))
        {
            return true;
        }

        string? temp = null;
        try
        {
            temp = await WriteTempAsync(path, data, cancellationToken).ConfigureAwait(false);
            if (HardLink.TryMoveNoReplace(temp, path))
            {
                temp = null;
                return true;
            }

            if (!Directory.Exists(path))
            {
                return false;
            }

            // The name is taken by a folder, not an object: reuse it if it is an empty leftover of deleted keys.
            if (TryRemoveEmptyFolder(path) && HardLink.TryMoveNoReplace(temp, path))
            {
                temp = null;
                return true;
            }

            throw (Exception?)Unrepresentable(key) ?? new IOException($"Object '{key}' could not be created: its name is taken by a folder.");
        }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && Unrepresentable(key) is { } refused)
        {
            throw refused;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <summary>
    /// The common case in a few system calls on Linux: the folder opened once, the temporary file created and renamed
    /// relative to it (each call by path walks every component again; a call's paths have about ten). Only a write
    /// that fully succeeded returns true; anything else (a missing parent, a name taken, a full disk, a create-only
    /// name that exists) leaves nothing behind and returns false, and the general path does it again and says why.
    /// </summary>
    private static bool TryWriteInFolder(string path, ReadOnlyMemory<byte> data, bool noReplace)
    {
        if (!PosixFiles.Supported || data.Length > SynchronousLimit || (noReplace && HardLink.Current != HardLink.Method.Renameat2))
        {
            return false;
        }

        string folder = Path.GetDirectoryName(path)!;
        string name = Path.GetFileName(path);
        if (name.StartsWith("started.", StringComparison.Ordinal) || name.EndsWith(".started", StringComparison.Ordinal))
        {
            // A call's first object, in a folder no one has made yet: make it first rather than fail to open it.
            PosixFiles.TryMakeFolder(folder);
        }

        int fd = PosixFiles.TryOpenFolder(folder);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return PosixFiles.TryWriteAt(fd, TempName(), name, data.Span, noReplace);
        }
        finally
        {
            PosixFiles.CloseFolder(fd);
        }
    }

    private static void Replace(string source, string target)
    {
        if (PosixFiles.Supported)
        {
            PosixFiles.Replace(source, target);
        }
        else
        {
            File.Move(source, target, overwrite: true);
        }
    }

    private static void DeleteQuietly(string? temp)
    {
        if (temp is null)
        {
            return;
        }

        try
        {
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file is invisible to readers and listings.
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
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
        catch (Exception e) when (IsAbsent(e, path))
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        string path = PathOf(key);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long size = RandomAccess.GetLength(handle);
            return await ReadAsync(handle, offset, (int)Math.Clamp(size - offset, 0, length), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsAbsent(e, path))
        {
            return null;
        }
    }

    /// <summary>Whether a failed open means there is no object: nothing there, or a folder (keys under the name) rather than a file.</summary>
    private static bool IsAbsent(Exception e, string path) =>
        e is FileNotFoundException or DirectoryNotFoundException
        || ((e is IOException or UnauthorizedAccessException) && (Directory.Exists(path) || !File.Exists(path)));

    private static List<ObjectInfo> ListUnder(string root, string prefix, CancellationToken cancellationToken)
    {
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? root : Path.Combine(root, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return new FileSystemEnumerable<ObjectInfo>(
            folder,
            (ref FileSystemEntry entry) =>
            {
                // A listing of a large tree takes a while: stop it when asked.
                cancellationToken.ThrowIfCancellationRequested();
                return new ObjectInfo(Path.GetRelativePath(root, entry.ToFullPath()).Replace(Path.DirectorySeparatorChar, '/'), entry.Length);
            },
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None })
        {
            // Temporary files and folders being deleted (renamed with the temporary suffix) are not objects.
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !entry.FileName.EndsWith(ObjectKeys.TemporarySuffix, StringComparison.Ordinal),
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory && !entry.FileName.EndsWith(ObjectKeys.TemporarySuffix, StringComparison.Ordinal),
        }
        .Where(info => info.Key.StartsWith(prefix, StringComparison.Ordinal))
        .ToList();
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
        cancellationToken.ThrowIfCancellationRequested();
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        await Task.Yield();
        var found = new List<ObjectInfo>();
        foreach (string root in Roots)
        {
            if (root == _controlRoot && !(prefix.StartsWith(JobsPrefix, StringComparison.Ordinal) || JobsPrefix.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            found.AddRange(ListUnder(root, prefix, cancellationToken));
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (ObjectInfo info in found.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return info;
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

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
        cancellationToken.ThrowIfCancellationRequested();
        ObjectKeys.Validate(prefix, nameof(prefix), allowPrefix: true);
        if (prefix.EndsWith('/') && prefix.Length > 0)
        {
            // A whole folder (in each root that may hold it): one recursive delete.
            int count = 0;
            bool any = false;
            foreach (string root in Roots)
            {
                string folder = Path.Combine(root, prefix.TrimEnd('/').Replace('/', Path.DirectorySeparatorChar));
                if (Directory.Exists(folder))
                {
                    // Renamed away first, so the objects disappear at once for every reader; then removed.
                    // A fixed-length sibling name: the folder's own name may already be as long as names can be.
                    string trash = Path.Combine(Path.GetDirectoryName(folder)!, TempName());
                    Directory.Move(folder, trash);
                    count += Directory.EnumerateFiles(trash, "*", SearchOption.AllDirectories).Count();
                    Directory.Delete(trash, recursive: true);
                    any = true;
                }
            }

            if (any)
            {
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
            cancellationToken.ThrowIfCancellationRequested();
            deleted += await DeleteAsync(key, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        return deleted;
    }
}
