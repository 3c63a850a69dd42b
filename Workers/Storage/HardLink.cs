using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Neutral.Workers.Storage;

/// <summary>
/// Atomic "create if absent" of a fully written file. The best call the system has, learnt on first use:
/// renameat2(RENAME_NOREPLACE) on Linux; link(2) then unlink where renameat2 is missing (macOS, other Unix systems,
/// old kernels, file systems that refuse the flag); an exclusive create where hard links are missing too.
/// </summary>
internal static partial class HardLink
{
    /// <summary>The ways to create a file only if absent, best first.</summary>
    internal enum Method
    {
        Renameat2,
        Link,
        ExclusiveCreate,
    }

    private const int EEXIST = 17;
    private const int EPERM = 1;
    private const int EINVAL = 22;
    private const int AtFdCwd = -100;
    private const uint RenameNoReplace = 1;
    private static volatile Method s_method = Method.Renameat2;

    /// <summary>The system calls, replaceable so that tests can take the paths of systems that lack one.</summary>
    internal static Func<string, string, int> Renameat2Call { get; set; } = static (source, target) => Renameat2(AtFdCwd, source, AtFdCwd, target, RenameNoReplace);

    /// <inheritdoc cref="Renameat2Call"/>
    internal static Func<string, string, int> LinkCall { get; set; } = static (source, target) => Link(source, target);

    /// <summary>The best method found to work so far; tests set it to start from a given method again.</summary>
    internal static Method Current
    {
        get => s_method;
        set => s_method = value;
    }

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
            catch (IOException) when (File.Exists(target) || Directory.Exists(target))
            {
                return false;
            }
        }

        if (s_method == Method.Renameat2)
        {
            // One system call where link + unlink take two.
            int result;
            try
            {
                result = Renameat2Call(source, target);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                // macOS and other systems without renameat2.
                result = -1;
                Marshal.SetLastPInvokeError(ENOSYS);
            }

            if (result == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST)
            {
                return false;
            }

            if (errno != EINVAL && !IsUnsupported(errno))
            {
                throw new IOException($"Cannot create '{target}': renameat2(2) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }

            // The kernel or the file system does not know the call or the flag.
            s_method = Method.Link;
        }

        if (s_method == Method.Link)
        {
            int result;
            try
            {
                result = LinkCall(source, target);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                result = -1;
                Marshal.SetLastPInvokeError(ENOSYS);
            }

            if (result == 0)
            {
                File.Delete(source);
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST)
            {
                return false;
            }

            if (errno != EPERM && !IsUnsupported(errno))
            {
                throw new IOException($"Cannot create '{target}': link(2) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }

            // A file system without hard links (FAT, some network and FUSE file systems answer EPERM).
            s_method = Method.ExclusiveCreate;
        }

        return CreateExclusive(source, target);
    }

    /// <summary>
    /// The last resort: the target is claimed with an exclusive create (O_CREAT | O_EXCL, atomic on local file
    /// systems), then the fully written source is renamed over the claim. A reader may see the claim empty for the
    /// moment between the two calls; no two creators can both win.
    /// </summary>
    private static bool CreateExclusive(string source, string target)
    {
        try
        {
            File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete).Dispose();
        }
        catch (IOException) when (File.Exists(target) || Directory.Exists(target))
        {
            return false;
        }

        File.Move(source, target, overwrite: true);
        return true;
    }

    // ENOSYS, ENOTSUP and EOPNOTSUPP differ between Linux and the BSDs (macOS).
    private static int ENOSYS => OperatingSystem.IsLinux() ? 38 : 78;

    private static bool IsUnsupported(int errno) =>
        errno == ENOSYS || (OperatingSystem.IsLinux() ? errno == 95 : errno is 45 or 102);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string source, string target);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Renameat2(int oldDirectory, string source, int newDirectory, string target, uint flags);
}
