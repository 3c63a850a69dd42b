using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers.Local;

namespace Neutral.Local;

/// <summary>
/// How to start a local worker process. By default the generic host: <c>dotnet exec --runtimeconfig app.runtimeconfig.json
/// --depsfile app.deps.json Neutral.Workers.Host.dll local --assembly ...</c>, given every assembly whose dispatch table is
/// registered in this process. The application's own <c>Main</c> never runs in a worker.
/// </summary>
internal sealed record WorkerLaunch(string FileName, IReadOnlyList<string> Arguments)
{
    public static WorkerLaunch Resolve(LocalOptions options, StoreLocation store)
    {
        if (!string.IsNullOrWhiteSpace(options.WorkerCommand))
        {
            if (!File.Exists(options.WorkerCommand))
            {
                throw new NeutralConfigurationException("Neutral:Local:WorkerCommand", options.WorkerCommand, "no such file: it must be the path of an executable that serves the local worker protocol.");
            }

            return new WorkerLaunch(options.WorkerCommand, ["local"]);
        }

        // The generic host ships beside Neutral.dll (a project reference of it).
        string workers = Path.Combine(Path.GetDirectoryName(typeof(LocalWorker).Assembly.Location) ?? string.Empty, "Neutral.Workers.Host.dll");
        // The user's assemblies (their dispatch tables), and the assembly that registered the store's kind when it is
        // not the file system: its module initializer registers the kind in the worker too.
        var assemblies = RemoteDispatch.Dispatchers.Select(d => d.GetType().Assembly.Location)
            .Concat(store.Kind != LocalWorker.LocalStoreKind && ObjectStores.OpenerOf(store.Kind) is { } opener ? [opener.Method.Module.Assembly.Location] : [])
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        if (string.IsNullOrEmpty(typeof(LocalWorker).Assembly.Location) || assemblies.Any(string.IsNullOrEmpty))
        {
            throw new NeutralConfigurationException("Neutral:Local:Isolation", "process",
                "this application is single-file or NativeAOT, so the generic worker host cannot load its assemblies. Set Neutral:Local:WorkerCommand to a worker executable, or Neutral:Local:Isolation to inproc.");
        }

        if (!File.Exists(workers))
        {
            throw new NeutralConfigurationException("Neutral:Local:Isolation", "process",
                $"the generic worker host '{workers}' is missing from the application's folder. Rebuild the application, or set Neutral:Local:Isolation to inproc.");
        }

        string deps = DepsFile() ?? throw new NeutralConfigurationException("Neutral:Local:Isolation", "process",
            "the application's .deps.json could not be found, so worker processes cannot resolve its dependencies. Set Neutral:Local:Isolation to inproc.");
        string runtimeConfig = Path.ChangeExtension(Path.ChangeExtension(deps, null), null) + ".runtimeconfig.json";
        if (!File.Exists(runtimeConfig))
        {
            throw new NeutralConfigurationException("Neutral:Local:Isolation", "process",
                $"'{runtimeConfig}' is missing, so worker processes cannot start. Set Neutral:Local:Isolation to inproc.");
        }

        var arguments = new List<string> { "exec", "--runtimeconfig", runtimeConfig, "--depsfile", deps, workers, "local" };
        foreach (string assembly in assemblies)
        {
            arguments.Add("--assembly");
            arguments.Add(assembly);
        }

        return new WorkerLaunch(DotnetHost(), arguments);
    }

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

    private static string DotnetHost()
    {
        string name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } process && Path.GetFileName(process) == name)
        {
            return process;
        }

        // {root}/shared/Microsoft.NETCore.App/{version}/ -> {root}/dotnet
        string runtime = RuntimeEnvironment.GetRuntimeDirectory();
        string root = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        string candidate = Path.Combine(root, name);
        return File.Exists(candidate) ? candidate : name;
    }
}
