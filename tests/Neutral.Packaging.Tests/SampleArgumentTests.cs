using System;
using System.IO;
using System.Threading.Tasks;

namespace Neutral.Packaging.Tests;

/// <summary>The samples refuse bad arguments as a command-line tool should: a message naming the argument, exit code 2, nothing run.</summary>
public sealed class SampleArgumentTests
{
    [Theory]
    [InlineData("ParameterServer", "--rows,abc", "--rows is a whole number")]
    [InlineData("ParameterServer", "--lr,0", "--lr is a learning rate")]
    [InlineData("ParameterServer", "--rows,1000,--shards,5000", "leaves a shard empty")]
    [InlineData("ParameterServer", "--rowz,10", "unknown argument '--rowz'")]
    [InlineData("ParameterServer", "--store,nosuch", "name a store 'nosuch' of kind redis")]
    [InlineData("Featurize", "--images,10", "--images is a whole number from 60")]
    [InlineData("Featurize", "--batch", "missing value at '--batch'")]
    public async Task A_bad_argument_exits_with_2_and_says_what_is_wrong(string sample, string arguments, string message)
    {
        string root = PackagedFeed.FindRepository();
        string dll = Path.Combine(root, "samples", sample, "bin", "Release", "net10.0", sample + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is built by the solution build (dotnet build Neutral.sln -c Release)");
        using var folder = new TempDirectory();
        CommandResult run = await Command.RunAsync("dotnet", [dll, .. arguments.Split(',')], folder.Path, TimeSpan.FromMinutes(2));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("neutral-sample-args").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
