using System;
using System.Diagnostics.CodeAnalysis;
using Neutral.Workers;
using Neutral.Workers.Local;

/// <summary>
/// The startup hook of local worker processes under the JIT (<c>DOTNET_STARTUP_HOOKS=Neutral.Workers</c>, set by the
/// client that starts them): in a process started as a worker it loads the application's dispatch tables, serves
/// calls and exits before the application's <c>Main</c>; in any other process it does nothing. The runtime requires
/// this name, in the global namespace.
/// </summary>
[SuppressMessage("Design", "CA1050:Declare types in namespaces", Justification = "The runtime looks the startup hook up as the global type StartupHook.")]
internal static class StartupHook
{
    /// <summary>Called by the runtime before <c>Main</c>.</summary>
    public static void Initialize()
    {
        if (!WorkerStart.Take(out string mode, out string[] assemblies))
        {
            return;
        }

        // The call path compiles on the other core while this one loads the application.
        StartupWarmup.Start(local: mode == "local");
        try
        {
            if (assemblies.Length == 0)
            {
                // No list: the application itself, whose generated module initializer registers its own table and
                // those of the libraries it references (a deployed action or a command run by hand).
                WorkerStart.LoadEntryAssembly();
            }
            else
            {
                WorkerStart.Load(assemblies);
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"Neutral worker: could not load the application's assemblies ({string.Join(", ", assemblies)}): {e.Message}");
            Environment.Exit(WorkerStart.StartFailedExitCode);
        }

        WorkerStart.ServeAndExit(mode);
    }
}
