using System;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Neutral.Workers.Host;

/// <summary>
/// Loads the user's assemblies into the generic local worker host and runs their module initializers, which register
/// the generated dispatch tables. JIT only: NativeAOT workers link their tables in at build time.
/// </summary>
internal static class AssemblyLoader
{
    /// <summary>Loads an assembly by path and registers its dispatch table.</summary>
    /// <exception cref="FileNotFoundException">The assembly is not there.</exception>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The generic host runs under the JIT only; NativeAOT workers never load assemblies.")]
    [UnconditionalSuppressMessage("AOT", "IL3000", Justification = "The generic host runs under the JIT only.")]
    public static void Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The worker was asked to load '{path}', which does not exist: was the application rebuilt or moved while it ran?", path);
        }

        Assembly assembly = Assembly.LoadFrom(path);
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
    }
}
