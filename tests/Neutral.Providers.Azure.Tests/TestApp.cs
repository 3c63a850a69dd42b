using System;
using System.Collections.Generic;
using System.IO;
using Neutral.Providers.Azure.Compute;
using Neutral.Providers.Azure.Worker;

namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// The Function App the Functions-host emulator runs: the package's <c>host.json</c> and <c>function.json</c> files as
/// deployment writes them, and a handler that starts this test assembly's host again (the JIT path; a deployed app is
/// the user's published executable), with the app settings a deployment sets.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class TestApp
{
    public const string Assemblies = "Neutral.Providers.Azure;Neutral.Providers.Azure.Tests;Neutral.Testing.Support";

    /// <summary>Writes the app into <paramref name="folder"/>: <c>handler</c> and the Function App files.</summary>
    public static string Write(string folder, FunctionAppOptions? options = null)
    {
        string deps = ((string)AppContext.GetData("APP_CONTEXT_DEPS_FILES")!).Split(';')[0];
        string runtimeConfig = deps[..^".deps.json".Length] + ".runtimeconfig.json";
        string entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        string handler = Path.Combine(folder, "handler");
        Directory.CreateDirectory(folder);
        File.WriteAllText(handler, $"#!/bin/sh\nexec '{Environment.ProcessPath}' exec --runtimeconfig '{runtimeConfig}' --depsfile '{deps}' '{entry}'\n");
        File.SetUnixFileMode(handler, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        FunctionAppFiles.Write(folder, "handler", options ?? new FunctionAppOptions());
        return folder;
    }

    /// <summary>Writes the deployment record of app <paramref name="app"/> into <paramref name="store"/>, as deployment does: this process's dispatch tables.</summary>
    public static System.Threading.Tasks.Task PublishRecordAsync(IObjectStore store, string app, IReadOnlyDictionary<string, string>? tables = null) =>
        store.PutAsync(FunctionsComputeBackend.RecordKey(app), System.Text.Encoding.UTF8.GetBytes(
            Neutral.Providers.DeployedTables.Text(tables ?? Neutral.Providers.DeployedTables.Of(Neutral.Dispatch.RemoteDispatch.Functions))));

    /// <summary>The app settings: the worker runtime, the assemblies to load, the host's storage, the queue, the timeout.</summary>
    public static Dictionary<string, string> Settings(string connectionString, string queue, int timeoutSeconds = 300, string assemblies = Assemblies) => new()
    {
        ["NEUTRAL_WORKER"] = FunctionsHandler.RuntimeName,
        ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        ["NEUTRAL_WORKER_ASSEMBLIES"] = assemblies,
        ["AzureWebJobsStorage"] = connectionString,
        [FunctionAppFiles.QueueSetting] = queue,
        [FunctionsHandler.TimeoutVariable] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
