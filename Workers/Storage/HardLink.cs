using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Neutral.Workers.Storage;

/// <summary>link(2): creates <c>target</c> as another name of <c>source</c>, failing if <c>target</c> exists.</summary>
internal static partial class HardLink
{
    private const int EEXIST = 17;

    public static bool TryCreate(string source, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            if (Link(source, target) == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST)
            {
                return false;
            }

            throw new IOException($"Cannot create '{target}': link(2) failed with errno {errno}.");
        }

        // Windows: a move without overwrite is atomic and fails if the target exists.
        try
        {
            File.Move(source, target, overwrite: false);
            File.Copy(target, source);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string source, string target);
}
