using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Testing;
using Xunit;

namespace Neutral.Tests;

/// <summary>
/// The test helper that publishes a sample once for every test process: a publish writes into the project's build
/// folder, and a second caller arriving meanwhile must still wait for the first and reuse its result (CI once ran two
/// publishes of one sample at the same time, and both failed).
/// </summary>
public sealed class PublishedAppTests : IDisposable
{
    private readonly string _project = Path.Combine(Path.GetTempPath(), "neutral-published-app-test-" + Guid.NewGuid().ToString("N"));

    public PublishedAppTests()
    {
        Directory.CreateDirectory(Path.Combine(_project, "bin", "Release", "net10.0"));
        File.WriteAllText(Path.Combine(_project, "bin", "Release", "net10.0", "App.dll"), "build 1");
    }

    [Fact]
    public async Task A_caller_arriving_during_a_publish_waits_for_it_and_reuses_its_result()
    {
        int publishes = 0;
        var started = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        Task<string> first = PublishedApp.PublishOnceAsync(_project, async output =>
        {
            Interlocked.Increment(ref publishes);
            // What a runtime-specific publish does: new files under the build folder.
            Directory.CreateDirectory(Path.Combine(_project, "bin", "Release", "net10.0", "linux-x64"));
            File.WriteAllText(Path.Combine(_project, "bin", "Release", "net10.0", "linux-x64", "App"), "published");
            started.SetResult();
            await finish.Task;
            return output;
        });
        await started.Task;

        Task<string> second = PublishedApp.PublishOnceAsync(_project, output =>
        {
            Interlocked.Increment(ref publishes);
            return Task.FromResult("second " + output);
        });
        await Task.Delay(50);
        Assert.False(second.IsCompleted);
        finish.SetResult();

        Assert.Equal(await first, await second);
        Assert.Equal(1, publishes);
    }

    [Fact]
    public async Task A_rebuild_publishes_again()
    {
        int publishes = 0;
        Task<string> Publish() => PublishedApp.PublishOnceAsync(_project, output => Task.FromResult($"{Interlocked.Increment(ref publishes)} {output}"));

        string before = await Publish();
        Assert.Equal(before, await Publish());
        File.SetLastWriteTimeUtc(Path.Combine(_project, "bin", "Release", "net10.0", "App.dll"), DateTime.UtcNow.AddMinutes(1));

        string after = await Publish();
        Assert.NotEqual(before, after);
        Assert.Equal(2, publishes);
    }

    public void Dispose()
    {
        Directory.Delete(_project, recursive: true);
        Directory.Delete(PublishedApp.RecordFolder(_project), recursive: true);
    }
}
