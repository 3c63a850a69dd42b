using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Neutral.Providers.Aws.Compute;

namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// The function the Lambda emulator runs: a <c>bootstrap</c> that starts this test assembly's host again (the JIT path;
/// a deployed function is the user's published app), and the variables a deployment sets.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class TestFunction
{
    public const string Assemblies = "Neutral.Providers.Aws;Neutral.Providers.Aws.Tests;Neutral.Testing.Support";

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

    /// <summary>This process's dispatch tables, as a deployment records them.</summary>
    public static Dictionary<string, string> Tables() =>
        Neutral.Dispatch.RemoteDispatch.Functions.ToDictionary(f => f.Id, f => Neutral.Wire.InvocationEnvelope.FormatHash(f.SignatureHash), StringComparer.Ordinal);

    /// <summary>Stores <see cref="Tables"/> in the bucket where a deployment keeps them (the function's <see cref="LambdaDeployer.TablesVariable"/> names them).</summary>
    public static async Task PublishTablesAsync(IObjectStore store)
    {
        Dictionary<string, string> tables = Tables();
        await store.TryCreateAsync(LambdaDeployer.TablesKey(LambdaDeployer.TablesDigest(tables)), Encoding.UTF8.GetBytes(LambdaDeployer.TablesText(tables)));
    }

    /// <summary>The function's variables: the worker runtime, the assemblies to load, the tables' digest, and the role's credentials as Lambda sets them.</summary>
    public static Dictionary<string, string> Environment(string assemblies = Assemblies) => new()
    {
        ["NEUTRAL_WORKER"] = "aws",
        [LambdaDeployer.TablesVariable] = LambdaDeployer.TablesDigest(Tables()),
        ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        ["NEUTRAL_WORKER_ASSEMBLIES"] = assemblies,
        ["AWS_ACCESS_KEY_ID"] = S3Bucket.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3Bucket.SecretKey,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_DEFAULT_REGION"] = "us-east-1",
    };
}
