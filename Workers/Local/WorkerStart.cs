using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Reflection;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Storage;

namespace Neutral.Workers.Local;

/// <summary>
/// How a local worker process starts: the client runs the application's own executable again, with
/// <see cref="Variable"/> set. Under the JIT, a startup hook (<c>DOTNET_STARTUP_HOOKS=Neutral.Workers</c>) takes the
/// process over before the application's <c>Main</c>; in a NativeAOT executable, the module initializer the source
/// generator writes does (<see cref="LocalWorker.RunIfWorkerProcess"/>). Either way the process loads the assemblies
/// named in <see cref="AssembliesVariable"/> (their module initializers register the dispatch tables and store kinds),
/// serves calls over its standard streams and exits. The application's <c>Main</c> never runs in a worker.
/// </summary>
internal static class WorkerStart
{
    /// <summary>Set to <c>local</c> in a worker process's environment by the client that starts it.</summary>
    public const string Variable = "NEUTRAL_WORKER";

    /// <summary><c>0</c>: the worker does not echo its calls' output to its standard error (<c>Local:ForwardOutput=false</c>).</summary>
    public const string ForwardOutputVariable = "NEUTRAL_FORWARD_OUTPUT";

    /// <summary>The assemblies a JIT worker loads, by name, separated by <c>;</c>.</summary>
    public const string AssembliesVariable = "NEUTRAL_WORKER_ASSEMBLIES";

    /// <summary>The runtime's list of startup hooks (assembly names or paths, separated by the path separator).</summary>
    public const string StartupHooksVariable = "DOTNET_STARTUP_HOOKS";

    /// <summary>This assembly's name, as the startup hook entry.</summary>
    public const string HookAssembly = "Neutral.Workers";

    /// <summary>The exit code of a worker process that could not start (a missing assembly, say).</summary>
    public const int StartFailedExitCode = 4;

    /// <summary>The worker runtime this process was started as (<c>local</c>, <c>aws</c>, ...), once <see cref="Take"/> has read it; null in a client.</summary>
    public static string? Mode { get; private set; }

    /// <summary>
    /// Whether this process was started as a worker, and if so which runtime (<c>local</c>, or one a provider
    /// registered with <see cref="WorkerRuntimes"/>) and the assembly list. Clears the variables either way, so that
    /// processes the user's code starts from a worker are ordinary processes.
    /// </summary>
    public static bool Take(out string mode, out string[] assemblies)
    {
        Mode ??= Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } taken ? taken : null;
        mode = Environment.GetEnvironmentVariable(Variable) ?? string.Empty;
        assemblies = (Environment.GetEnvironmentVariable(AssembliesVariable) ?? string.Empty)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (mode.Length == 0)
        {
            return false;
        }

        Environment.SetEnvironmentVariable(Variable, null);
        Environment.SetEnvironmentVariable(AssembliesVariable, null);
        if (Environment.GetEnvironmentVariable(StartupHooksVariable) is { } hooks)
        {
            string rest = string.Join(Path.PathSeparator, hooks.Split(Path.PathSeparator).Where(h => h != HookAssembly));
            Environment.SetEnvironmentVariable(StartupHooksVariable, rest.Length == 0 ? null : rest);
        }

        return true;
    }

    /// <summary>Loads the assemblies by name and runs their module initializers (JIT workers only).</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only JIT workers load assemblies by name; NativeAOT workers link their tables in.")]
    public static void Load(string[] assemblies)
    {
        foreach (string name in assemblies)
        {
            Assembly assembly = Assembly.Load(new AssemblyName(name));
            RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        }
    }

    /// <summary>Runs the entry assembly's module initializer (JIT workers started without an assembly list).</summary>
    public static void LoadEntryAssembly()
    {
        Assembly entry = Assembly.GetEntryAssembly() ?? throw new InvalidOperationException("the process has no entry assembly; set NEUTRAL_WORKER_ASSEMBLIES");
        RuntimeHelpers.RunModuleConstructor(entry.ManifestModule.ModuleHandle);
    }

    /// <summary>What a worker started with a runtime name nobody registered says: the nearest name, and those there are.</summary>
    internal static string UnknownRuntime(string mode)
    {
        string[] known = [.. WorkerRuntimes.Names.Append("local").Order(StringComparer.Ordinal)];
        string hint = EditDistance.Nearest(mode, known) is { } near ? $" Did you mean '{near}'?" : string.Empty;
        return $"Neutral worker: no worker runtime '{mode}' is registered in this process (NEUTRAL_WORKER={mode}).{hint} Registered here: {string.Join(", ", known)}. "
            + "A provider's runtimes come with its package, which the application must reference (and, under the JIT, load: NEUTRAL_WORKER_ASSEMBLIES or the entry assembly).";
    }

    /// <summary>Serves calls as a worker of <paramref name="mode"/>, then ends the process: its <c>Main</c> must never run.</summary>
    [DoesNotReturn]
    public static void ServeAndExit(string mode)
    {
        if (mode == Replay.RuntimeName)
        {
            // One stored call, in this process, for a debugger (neutral replay): its own exit codes.
            int replayed = Replay.RunAsync(Console.Out, Console.Error, ObjectStores.Open, CancellationToken.None).GetAwaiter().GetResult();
            Console.Out.Flush();
            Environment.Exit(replayed);
        }

        Func<CancellationToken, Task>? serve = mode == "local"
            ? token => LocalWorker.ServeStandardStreamsAsync(token)
            : WorkerRuntimes.Find(mode);
        if (serve is null)
        {
            Console.Error.WriteLine(UnknownRuntime(mode));
            Environment.Exit(StartFailedExitCode);
        }

        int code = 0;
        try
        {
            serve(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("Neutral worker: " + e);
            code = 1;
        }

        Environment.Exit(code);
        throw new UnreachableException();
    }
}
