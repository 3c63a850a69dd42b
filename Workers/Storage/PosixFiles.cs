using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Neutral.Workers.Storage;

/// <summary>
/// The file-system store's hot writes on Linux as plain system calls. .NET's file APIs spend several more per file on
/// Unix: a <c>fstat</c> after <c>open</c>, a <c>fstatfs</c> and an advisory <c>flock</c> for the sharing mode, and
/// <c>lstat</c>s around a move. A call's temporary file has a fresh random name no one else opens, so none of them buys
/// anything there, and on a virtual machine each costs microseconds of kernel time per call.
/// </summary>
internal static partial class PosixFiles
{
    private const int OWrOnly = 0x1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int OCloExec = 0x80000;
    private const int ENOENT = 2;
    private const int EINTR = 4;
    private const int EACCES = 13;
    private const int EPERM = 1;
    private const int EEXIST = 17;

    private const int OPath = 0x200000;
    private const uint RenameNoReplace = 1;

    /// <summary>Whether the fast path applies: Linux on x64 and Arm64, whose flag values are the ones above.</summary>
    public static bool Supported { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>
    /// Opens a folder for the <c>*at</c> calls below (<c>O_PATH</c>): one walk of its path, where every call by path
    /// walks it again. -1 when it cannot be opened (missing, not a folder).
    /// </summary>
    public static int TryOpenFolder(string path) => Open(path, OPath | OCloExec, 0);

    /// <summary>Closes a descriptor from <see cref="TryOpenFolder"/>.</summary>
    public static void CloseFolder(int fd) => Close(fd);

    /// <summary>
    /// Writes <paramref name="data"/> to a new file <paramref name="temp"/> in the folder <paramref name="folder"/>,
    /// then renames it to <paramref name="name"/>, replacing a file of that name, or, with
    /// <paramref name="noReplace"/>, only if there is none. False when anything else happened (the temporary file is
    /// gone again): the caller takes the general path, which says why.
    /// </summary>
    public static unsafe bool TryWriteAt(int folder, string temp, string name, ReadOnlySpan<byte> data, bool noReplace)
    {
        int fd;
        do
        {
            fd = OpenAt(folder, temp, OWrOnly | OCreat | OExcl | OCloExec, 438);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            return false;
        }

        bool written = true;
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Write(fd, start + done, data.Length - done);
                if (n < 0 && Marshal.GetLastPInvokeError() == EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    written = false;
                    break;
                }

                done += (int)n;
            }
        }

        written &= Close(fd) == 0;
        if (written && (noReplace ? RenameAt2(folder, temp, folder, name, RenameNoReplace) : RenameAt(folder, temp, folder, name)) == 0)
        {
            return true;
        }

        UnlinkAt(folder, temp, 0);
        return false;
    }


    /// <summary>Creates <paramref name="path"/>, which must not exist, holding <paramref name="data"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">Its folder is missing.</exception>
    /// <exception cref="IOException">Any other failure (the file is removed again when it was created).</exception>
    public static unsafe void WriteNew(string path, ReadOnlySpan<byte> data)
    {
        int fd;
        do
        {
            fd = Open(path, OWrOnly | OCreat | OExcl | OCloExec, 438 /* 0666, less the umask */);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), "create", path);
        }

        int failed = 0;
        fixed (byte* start = data)
        {
            int written = 0;
            while (written < data.Length)
            {
                nint n = Write(fd, start + written, data.Length - written);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR)
                    {
                        continue;
                    }

                    failed = errno;
                    break;
                }

                written += (int)n;
            }
        }

        if (Close(fd) != 0 && failed == 0)
        {
            failed = Marshal.GetLastPInvokeError();
        }

        if (failed != 0)
        {
            Unlink(path);
            throw Error(failed, "write", path);
        }
    }

    /// <summary>
    /// Makes the folder <paramref name="path"/> whose parent exists (mkdir(2), one system call where
    /// <see cref="Directory.CreateDirectory(string)"/> takes several); false when the parent is missing too.
    /// </summary>
    public static bool TryMakeFolder(string path)
    {
        if (MakeDirectory(path, 511 /* 0777, less the umask */) == 0)
        {
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            EEXIST => true,
            ENOENT => false,
            _ => throw Error(errno, "make the folder", path),
        };
    }

    /// <summary>Renames <paramref name="source"/> over <paramref name="target"/> (rename(2): replaces a file, atomically).</summary>
    public static void Replace(string source, string target)
    {
        if (Rename(source, target) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), "rename to", target);
        }
    }

    private static Exception Error(int errno, string doing, string path)
    {
        string message = $"Cannot {doing} '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
        return errno switch
        {
            ENOENT => new DirectoryNotFoundException(message),
            EACCES or EPERM => new UnauthorizedAccessException(message),
            _ => new IOException(message, errno),
        };
    }

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="processId"/> (Linux and macOS); false when it could not be sent.</summary>
    internal static bool SendSignal(int processId, int signal) =>
        (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Kill(processId, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string source, string target);

    [LibraryImport("libc", EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int OpenAt(int folder, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "renameat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt(int sourceFolder, string source, int targetFolder, string target);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int sourceFolder, string source, int targetFolder, string target, uint flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int UnlinkAt(int folder, string path, int flags);

    [LibraryImport("libc", EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeDirectory(string path, int mode);

    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Unlink(string path);

    /// <summary>The process's effective user id (no user database lookup, unlike <see cref="Environment.UserName"/>).</summary>
    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint EffectiveUserId();
}
