using System;
using System.Collections.Generic;
using System.IO;

namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// The function the Lambda emulator runs: a <c>bootstrap</c> that starts this test assembly's host again (the JIT path;
/// a deployed function is the user's published app), and the variables a deployment sets.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class TestFunction
{
    public const string Assemblies = "Neutral.Providers.Aws;Neutral.Providers.Aws.Tests";

    /// <summary>Writes <c>bootstrap</c> into <paramref name="folder"/> and returns its path.</summary>
    public static string Bootstrap(string folder)
    {
        string deps = ((string)AppContext.GetData("APP_CONTEXT_DEPS_FILES")!).Split(';')[0];
        string runtimeConfig = deps[..^".deps.json".Length] + ".runtimeconfig.json";
        string entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        string path = Path.Combine(folder, "bootstrap");
        File.WriteAllText(path, $"#!/bin/sh\nexec '{System.Environment.ProcessPath}' exec --runtimeconfig '{runtimeConfig}' --depsfile '{deps}' '{entry}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>The function's variables: the worker runtime, the assemblies to load, and the role's credentials as Lambda sets them.</summary>
    public static Dictionary<string, string> Environment(string assemblies = Assemblies) => new()
    {
        ["NEUTRAL_WORKER"] = "aws",
        ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        ["NEUTRAL_WORKER_ASSEMBLIES"] = assemblies,
        ["AWS_ACCESS_KEY_ID"] = S3Bucket.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3Bucket.SecretKey,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_DEFAULT_REGION"] = "us-east-1",
    };
}
