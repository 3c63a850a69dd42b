using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Neutral.Dispatch;
using Neutral.Wire;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// The action the emulators run: an <c>exec</c> that starts this test assembly's host again (the JIT path; a deployed
/// action is the user's published app), and the init variables a deployment binds.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class TestAction
{
    public const string Assemblies = "Neutral.Providers.OpenWhisk;Neutral.Providers.OpenWhisk.Tests;Neutral.Testing.Support";

    /// <summary>Writes <c>exec</c> into <paramref name="folder"/> and returns its path.</summary>
    public static string Exec(string folder)
    {
        string deps = ((string)AppContext.GetData("APP_CONTEXT_DEPS_FILES")!).Split(';')[0];
        string runtimeConfig = deps[..^".deps.json".Length] + ".runtimeconfig.json";
        string entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        string path = Path.Combine(folder, "exec");
        File.WriteAllText(path, $"#!/bin/sh\nexec '{System.Environment.ProcessPath}' exec --runtimeconfig '{runtimeConfig}' --depsfile '{deps}' '{entry}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>The dispatch tables this test assembly was built with, as a deployment annotates the action.</summary>
    public static Dictionary<string, string> Tables() =>
        RemoteDispatch.Functions.ToDictionary(f => f.Id, f => InvocationEnvelope.FormatHash(f.SignatureHash), StringComparer.Ordinal);

    /// <summary>The init <c>env</c>: the worker runtime, the assemblies to load, the store's keys, and the <c>__OW_*</c> the proxy sets.</summary>
    public static Dictionary<string, string> Environment(string assemblies = Assemblies) => new()
    {
        ["NEUTRAL_WORKER"] = "openwhisk",
        ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        ["NEUTRAL_WORKER_ASSEMBLIES"] = assemblies,
        [OpenWhiskProvider.AccessKeyVariable] = S3Bucket.Settings.AccessKey,
        [OpenWhiskProvider.SecretKeyVariable] = S3Bucket.Settings.SecretKey,
        ["__OW_API_HOST"] = "http://127.0.0.1:1",
        ["__OW_NAMESPACE"] = "guest",
    };
}
