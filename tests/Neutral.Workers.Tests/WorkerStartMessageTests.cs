using System;
using Neutral.Workers;
using Neutral.Workers.Local;
using Xunit;

namespace Neutral.Workers.Tests;

/// <summary>What a process started as a worker says when it cannot serve: the cause it can tell, and the fix.</summary>
public sealed class WorkerStartMessageTests
{
    [Fact]
    public void Without_the_hook_variable_it_says_to_set_it()
    {
        string message = LocalWorker.NoStartupHook("aws-deploy", null);
        Assert.Contains("set DOTNET_STARTUP_HOOKS=Neutral.Workers as well", message, StringComparison.Ordinal);
        Assert.Contains("NEUTRAL_WORKER=aws-deploy DOTNET_STARTUP_HOOKS=Neutral.Workers ./YourApp", message, StringComparison.Ordinal);
        Assert.DoesNotContain("StartupHookSupport", message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_the_hook_set_but_not_run_it_blames_StartupHookSupport()
    {
        string message = LocalWorker.NoStartupHook("local", "Other.Hook" + System.IO.Path.PathSeparator + "Neutral.Workers");
        Assert.Contains("StartupHookSupport is off, as in trimmed builds", message, StringComparison.Ordinal);
        Assert.DoesNotContain("as well", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_runtime_gets_the_nearest_name_only_when_it_is_close()
    {
        Assert.Contains("Did you mean 'local'?", WorkerStart.UnknownRuntime("locla"), StringComparison.Ordinal);
        string far = WorkerStart.UnknownRuntime("kubernetes");
        Assert.DoesNotContain("Did you mean", far, StringComparison.Ordinal);
        Assert.Contains("Registered here: local", far, StringComparison.Ordinal);
        Assert.Equal("aws-deploy", EditDistance.Nearest("aws-deplyo", ["aws", "aws-deploy", "local"]));
        Assert.Null(EditDistance.Nearest("azure", ["aws", "local"]));
    }
}
