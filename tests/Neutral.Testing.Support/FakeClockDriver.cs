using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Neutral.Testing;

/// <summary>
/// Driving a client on a fake clock against servers and processes that run in real time (the emulators): the clock
/// moves a step at a time with a moment of real time between steps, and waits on the real side leave it alone.
/// </summary>
public static class FakeClockDriver
{
    /// <summary>Moves <paramref name="time"/> on by <paramref name="step"/> at a time until <paramref name="done"/>; fails past <paramref name="limit"/> of fake time or two real minutes.</summary>
    public static async Task UntilAsync(FakeTimeProvider time, Func<bool> done, TimeSpan step, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(done);
        DateTimeOffset until = time.GetUtcNow() + limit;
        using var real = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!done())
        {
            Assert.True(time.GetUtcNow() < until, $"not done within {limit.TotalSeconds} s of fake time");
            time.Advance(step);
            await Task.Delay(5, real.Token);
        }
    }

    /// <summary>Waits in real time, up to two minutes, until <paramref name="condition"/>, without moving any clock.</summary>
    public static async Task WaitForAsync(Func<bool> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var real = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!condition())
        {
            await Task.Delay(10, real.Token).ContinueWith(t => Assert.False(t.IsCanceled, "timed out waiting for " + what), TaskScheduler.Default);
        }
    }

    /// <summary>Disposes <paramref name="disposable"/> (a service provider with a client on <paramref name="time"/>), moving the clock on while its jobs wind down.</summary>
    public static async Task DisposeAsync(IAsyncDisposable? disposable, FakeTimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (disposable is null)
        {
            return;
        }

        Task dispose = disposable.DisposeAsync().AsTask();
        while (!dispose.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(dispose, Task.Delay(5));
        }

        await dispose;
    }
}
