using System.Threading;
using Neutral.Workers;

namespace Neutral.Workers.Tests;

/// <summary>
/// The JIT worker's warm-up (what its startup hook compiles on a second thread while the application loads). Its gain
/// is measured in bench/ (the cold start's parts); these tests hold what would make it silently useless or harmful.
/// </summary>
public sealed class StartupWarmupTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_warm_up_runs_the_call_path_to_the_end_on_made_up_values(bool local)
    {
        // A made-up value the codec or the status writer rejected would end the warm-up early, without a word.
        Assert.True(StartupWarmup.Run(local));
    }

    [Fact]
    public void The_warm_up_thread_never_keeps_a_worker_alive()
    {
        // Looked at before it starts: a finished thread's state can no longer be read.
        Thread thread = StartupWarmup.CreateThread(local: true);
        Assert.True(thread.IsBackground, "a worker whose client is gone would wait for the warm-up to end before exiting");
        Assert.Equal("Neutral warm-up", thread.Name);
        thread.Start();
        thread.Join();
        Assert.NotNull(StartupWarmup.Start(local: false));
    }
}
