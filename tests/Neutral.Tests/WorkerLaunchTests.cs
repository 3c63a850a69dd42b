using System;
using System.Collections.Generic;
using System.IO;
using Neutral.Local;
using Neutral.Wire;
using Neutral.Testing;

namespace Neutral.Tests;

/// <summary>How the local provider starts worker processes: the application's own entry point, taken over before Main.</summary>
public sealed class WorkerLaunchTests
{
    private static readonly StoreLocation Store = new("local", "/tmp/store", "_neutral/");

    private static Func<string, string?> Variables(params (string Name, string Value)[] values)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            map[name] = value;
        }

        return name => map.TryGetValue(name, out string? value) ? value : null;
    }

    [Fact]
    public void Under_the_dotnet_host_a_worker_is_the_same_entry_assembly_with_the_startup_hook()
    {
        // The test host runs as `dotnet exec --runtimeconfig ... --depsfile ... testhost.dll`.
        WorkerLaunch launch = WorkerLaunch.Resolve(new LocalOptions(), Store, Variables());
        Assert.Equal(Environment.ProcessPath, launch.FileName);
        Assert.Equal("exec", launch.Arguments[0]);
        Assert.Contains("--depsfile", launch.Arguments);
        Assert.Equal(System.Reflection.Assembly.GetEntryAssembly()!.Location, launch.Arguments[^1]);
        Assert.Equal("local", launch.Environment["NEUTRAL_WORKER"]);
        Assert.Equal("Neutral.Workers", launch.Environment["DOTNET_STARTUP_HOOKS"]);
        // The dispatch tables registered here are loaded by name in the worker.
        Assert.Contains("Neutral.Tests", launch.Environment["NEUTRAL_WORKER_ASSEMBLIES"].Split(';'));
    }

    [Fact]
    public void Startup_hooks_the_user_already_has_are_kept()
    {
        WorkerLaunch launch = WorkerLaunch.Resolve(new LocalOptions(), Store, Variables(("DOTNET_STARTUP_HOOKS", "/opt/profiler/Hook.dll")));
        Assert.Equal("/opt/profiler/Hook.dll" + Path.PathSeparator + "Neutral.Workers", launch.Environment["DOTNET_STARTUP_HOOKS"]);
    }

    [Fact]
    public void A_process_started_as_a_worker_that_reaches_a_client_refuses_to_start_workers_of_its_own()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => WorkerLaunch.Resolve(new LocalOptions(), Store, Variables(("NEUTRAL_WORKER", "local"))));
        Assert.Equal("Neutral:Local:Isolation", error.Key);
        Assert.Contains("startup hook did not run", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_worker_command_is_started_as_is()
    {
        using var folder = new TempFolder();
        string command = Path.Combine(folder.Path, "worker");
        File.WriteAllText(command, "#!/bin/sh\n");
        WorkerLaunch launch = WorkerLaunch.Resolve(new LocalOptions { WorkerCommand = command }, Store, Variables(("NEUTRAL_WORKER", "local")));
        Assert.Equal(command, launch.FileName);
        Assert.Equal(["local"], launch.Arguments);
        // Not taken over by a hook: it serves because it was built to; it is told only whether to echo output.
        Assert.Equal("1", Assert.Single(launch.Environment, e => e.Key == "NEUTRAL_FORWARD_OUTPUT").Value);
        Assert.DoesNotContain("NEUTRAL_WORKER", launch.Environment.Keys);
    }
}
