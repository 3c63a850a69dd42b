using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Neutral.Workers.Storage;

/// <summary>Atomic "create if absent" of a fully written file: renameat2(RENAME_NOREPLACE), else link(2).</summary>
internal static partial class HardLink
{
    private const int EEXIST = 17;
    private const int ENOSYS = 38;
    private const int EINVAL = 22;
    private const int AtFdCwd = -100;
    private const uint RenameNoReplace = 1;
    private static volatile bool s_noRenameat2;

    /// <summary>
    /// Gives <paramref name="source"/> the name <paramref name="target"/> unless <paramref name="target"/> exists.
    /// On success <paramref name="source"/> is gone; on <see langword="false"/> it is still there.
    /// </summary>
    public static bool TryMoveNoReplace(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(source, target, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }
        }

        if (!s_noRenameat2)
        {
            // One system call where link + unlink take two; file systems without it answer EINVAL.
            if (Renameat2(AtFdCwd, source, AtFdCwd, target, RenameNoReplace) == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST)
            {
                return false;
            }

            if (errno is not (ENOSYS or EINVAL))
            {
                throw new IOException($"Cannot create '{target}': renameat2(2) failed with errno {errno}.");
            }

            s_noRenameat2 = true;
        }

        if (Link(source, target) == 0)
        {
            File.Delete(source);
            return true;
        }

        int linkErrno = Marshal.GetLastPInvokeError();
        if (linkErrno == EEXIST)
        {
            return false;
        }

        throw new IOException($"Cannot create '{target}': link(2) failed with errno {linkErrno}.");
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string source, string target);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Renameat2(int oldDirectory, string source, int newDirectory, string target, uint flags);
}
