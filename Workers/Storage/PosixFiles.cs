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

    /// <summary>Whether the fast path applies (Linux: the flag values above are Linux's).</summary>
    public static bool Supported => OperatingSystem.IsLinux();

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

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string source, string target);

    [LibraryImport("libc", EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeDirectory(string path, int mode);

    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Unlink(string path);
}
