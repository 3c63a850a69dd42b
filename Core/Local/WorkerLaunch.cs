using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Local;

/// <summary>
/// How to start a local worker process: the application's own executable again (its apphost, <c>dotnet exec app.dll</c>,
/// a self-contained or single-file executable, or a NativeAOT binary), with <c>NEUTRAL_WORKER=local</c> in its
/// environment. A startup hook in <c>Neutral.Workers</c> (JIT) or the module initializer the generator writes into the
/// executable (NativeAOT) turns that process into a worker before <c>Main</c>, so the application's <c>Main</c> never
/// runs in a worker and nothing but the application's own files is needed: publishing copies no extra host.
/// </summary>
internal sealed record WorkerLaunch(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    private const string IsolationKey = "Neutral:Local:Isolation";

    public static WorkerLaunch Resolve(LocalOptions options, StoreLocation store) => Resolve(options, store, System.Environment.GetEnvironmentVariable);

    /// <summary>Resolves the launch, reading this process's environment through <paramref name="variable"/> (tests).</summary>
    internal static WorkerLaunch Resolve(LocalOptions options, StoreLocation store, Func<string, string?> variable)
    {
        if (!string.IsNullOrWhiteSpace(options.WorkerCommand))
        {
            if (!File.Exists(options.WorkerCommand))
            {
                throw new NeutralConfigurationException("Neutral:Local:WorkerCommand", options.WorkerCommand, "no such file: it must be the path of an executable that serves the local worker protocol.");
            }

            return new WorkerLaunch(options.WorkerCommand, ["local"], new Dictionary<string, string> { [WorkerStart.ForwardOutputVariable] = options.ForwardOutput ? "1" : "0" })
            {
                ForwardTo = ForwardTarget(options),
            };
        }

        if (variable(WorkerStart.Variable) is not null)
        {
            // A worker whose hook did not take over would run Main, start a client, and start workers of its own.
            throw new NeutralConfigurationException(IsolationKey, options.Isolation,
                $"this process was started as a local worker ({WorkerStart.Variable} is set) but runs the application's Main: its startup hook did not run. "
                + "Set Neutral:Local:Isolation to inproc, or unset the variable.");
        }

        string process = System.Environment.ProcessPath
            ?? throw new NeutralConfigurationException(IsolationKey, options.Isolation, "the path of this process's executable is unknown, so worker processes cannot be started. Set Neutral:Local:Isolation to inproc.");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [WorkerStart.Variable] = "local",
            [WorkerStart.ForwardOutputVariable] = options.ForwardOutput ? "1" : "0",
        };

        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            // NativeAOT: the executable serves as its own worker when the generator wrote its module initializer.
            if (!LocalWorker.ExecutableServesWorkers)
            {
                throw new NeutralConfigurationException(IsolationKey, options.Isolation,
                    $"this NativeAOT executable ('{Path.GetFileName(process)}') was built without the Neutral source generator, so it cannot serve as its own worker. "
                    + "Reference the Neutral package from the executable's project (its Neutral.Abstractions dependency brings the generator), or set Neutral:Local:Isolation to inproc.");
            }

            return new WorkerLaunch(process, [], environment) { ForwardTo = ForwardTarget(options) };
        }

        if (AppContext.TryGetSwitch("System.StartupHookProvider.IsSupported", out bool hooks) && !hooks)
        {
            throw new NeutralConfigurationException(IsolationKey, options.Isolation,
                "this application was built with StartupHookSupport=false (as trimmed builds are), so worker processes cannot start under the JIT. "
                + "Set <StartupHookSupport>true</StartupHookSupport> in the project, publish with NativeAOT, or set Neutral:Local:Isolation to inproc.");
        }

        // The user's assemblies (their dispatch tables), and the assembly that registered the store's kind when it is
        // not the file system: its module initializer registers the kind in the worker too. By name: the worker is the
        // same application, so its dependency context resolves them (bundled ones included).
        environment[WorkerStart.AssembliesVariable] = string.Join(';', RemoteDispatch.Dispatchers.Select(d => d.GetType().Assembly)
            .Concat(store.Kind != LocalWorker.LocalStoreKind && ObjectStores.OpenerOf(store.Kind) is { } opener ? [opener.Method.Module.Assembly] : [])
            .Select(a => a.GetName().Name)
            .Distinct(StringComparer.Ordinal));
        string? inherited = variable(WorkerStart.StartupHooksVariable);
        environment[WorkerStart.StartupHooksVariable] = string.IsNullOrEmpty(inherited) ? WorkerStart.HookAssembly : inherited + Path.PathSeparator + WorkerStart.HookAssembly;

        if (!IsDotnetHost(process))
        {
            // An apphost, self-contained or single-file executable.
            return new WorkerLaunch(process, [], environment) { ForwardTo = ForwardTarget(options) };
        }

        // `dotnet app.dll`, `dotnet exec ... testhost.dll`: the same entry assembly, dependencies and runtime settings.
        string entry = EntryAssemblyPath() ?? throw new NeutralConfigurationException(IsolationKey, options.Isolation,
            "this process has no entry assembly on disk, so worker processes cannot be started. Set Neutral:Local:Isolation to inproc.");
        var arguments = new List<string> { "exec" };
        if (DepsFile() is { } deps)
        {
            string runtimeConfig = Path.ChangeExtension(Path.ChangeExtension(deps, null), null) + ".runtimeconfig.json";
            arguments.AddRange(File.Exists(runtimeConfig) ? ["--runtimeconfig", runtimeConfig, "--depsfile", deps] : ["--depsfile", deps]);
        }

        arguments.Add(entry);
        return new WorkerLaunch(process, arguments, environment) { ForwardTo = ForwardTarget(options) };
    }

    /// <summary>The entry assembly's file, when the process runs under the <c>dotnet</c> host (never single-file).</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Only used when the process is the dotnet host running a .dll; single-file apps are their own executable.")]
    private static string? EntryAssemblyPath() => Assembly.GetEntryAssembly()?.Location is { Length: > 0 } location ? location : null;

    /// <summary>
    /// Where the lines a worker writes to its standard error go (its calls' output, prefixed with their call index, and
    /// anything the process itself prints): this process's standard error, unless <c>Local:ForwardOutput</c> is off.
    /// </summary>
    public TextWriter? ForwardTo { get; init; }

    private static TextWriter? ForwardTarget(LocalOptions options) => options.ForwardOutput ? options.ForwardTo ?? Console.Error : null;

    /// <summary>This launch with <paramref name="variables"/> (a store's worker environment) added.</summary>
    public WorkerLaunch With(IReadOnlyDictionary<string, string>? variables)
    {
        if (variables is not { Count: > 0 })
        {
            return this;
        }

        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        foreach (var (name, value) in variables)
        {
            environment[name] = value;
        }

        return this with { Environment = environment };
    }

    private static bool IsDotnetHost(string process) =>
        Path.GetFileName(process) is "dotnet" or "dotnet.exe";

    private static string? DepsFile()
    {
        if (AppContext.GetData("APP_CONTEXT_DEPS_FILES") is string files)
        {
            foreach (string file in files.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                if (file.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase) && File.Exists(file))
                {
                    return file;
                }
            }
        }

        return null;
    }
}
