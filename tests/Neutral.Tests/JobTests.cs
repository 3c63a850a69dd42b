using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace Neutral.Tests;

public sealed class JobTests
{
    [Fact]
    public async Task AsCompleted_yields_futures_in_completion_order()
    {
        // Each call ends when the test writes its key, in the order 3, 2, 1, 0: no timing involved.
        await using var local = new LocalCloud(workers: 4);
        string run = Guid.NewGuid().ToString("N");
        var job = local.Cloud.Submit(Enumerable.Range(0, 4).Select(i => Remote.SimulatedFunctions.WaitForKey($"go/{run}/{i}", i)));
        var order = new List<int>();
        Task consume = Task.Run(async () =>
        {
            await foreach (RemoteFuture<int> future in job.AsCompleted())
            {
                Assert.Equal(RemoteCallState.Succeeded, future.State);
                order.Add(future.CallIndex);
            }
        });
        foreach (int i in new[] { 3, 2, 1, 0 })
        {
            await local.Cloud.Storage.PutAsync($"go/{run}/{i}", new byte[] { 1 });
            await job[i].Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        await consume.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([3, 2, 1, 0], order);
    }

    [Fact]
    public async Task WaitAsync_Any_returns_before_the_slow_calls_and_Percent_waits_for_its_share()
    {
        await using var local = new LocalCloud(workers: 3);
        var job = local.Cloud.Submit([Remote.FaultFunctions.Sleep(0, 0), Remote.FaultFunctions.Sleep(2500, 1), Remote.FaultFunctions.Sleep(2500, 2)]);
        await job.WaitAsync(ReturnWhen.Any);
        Assert.Equal(RemoteCallState.Succeeded, job[0].State);
        Assert.False(job[1].IsCompleted && job[2].IsCompleted);

        await job.WaitAsync(ReturnWhen.Percent(100));
        Assert.All(job.Futures, f => Assert.Equal(RemoteCallState.Succeeded, f.State));
        Assert.Equal(new[] { 0, 1, 2 }, await job.GetResultsAsync());
    }

    [Fact]
    public void ReturnWhen_counts_calls_needed()
    {
        Assert.Equal(1, ReturnWhen.Any.Needed(10));
        Assert.Equal(10, ReturnWhen.All.Needed(10));
        Assert.Equal(5, ReturnWhen.Percent(50).Needed(10));
        Assert.Equal(1, ReturnWhen.Percent(1).Needed(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReturnWhen.Percent(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReturnWhen.Percent(101));
    }

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task Cancelling_marks_pending_calls_cancelled_and_running_calls_see_their_token(string isolation)
    {
        await using var local = new LocalCloud(isolation, workers: 2);
        string marker = "cancelled/" + Guid.NewGuid().ToString("N");
        var job = local.Cloud.Submit(Enumerable.Range(0, 6).Select(_ => Remote.FaultFunctions.WaitForCancellation(marker)));
        await WaitUntilAsync(() => job.Futures.Count(f => f.State == RemoteCallState.Running) == 2);

        await job.CancelAsync();
        Assert.All(job.Futures, f => Assert.Equal(RemoteCallState.Cancelled, f.State));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.GetResultsAsync());

        // The two running calls observed cancellation and recorded it.
        await WaitUntilAsync(async () => await CountAsync(local.Cloud, marker + "/") == 2);
        Assert.Equal(2, await CountAsync(local.Cloud, marker + "/"));
    }

    private static async Task<int> CountAsync(Cloud cloud, string prefix)
    {
        int n = 0;
        await foreach (var _ in cloud.Storage.ListAsync(prefix))
        {
            n++;
        }

        return n;
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 400; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("The condition never held.");
    }

    [Fact]
    public async Task Progress_events_count_up_to_the_total()
    {
        await using var local = new LocalCloud();
        var seen = new List<JobProgress>();
        var job = local.Cloud.Submit(Enumerable.Range(0, 30).Select(i => Remote.TestFunctions.Square(i)));
        job.Progress += (_, p) =>
        {
            lock (seen)
            {
                seen.Add(p);
            }
        };
        await job.GetResultsAsync();
        await job.Completion;
        Assert.Equal(30, job.Current.Succeeded);
        Assert.Equal(1.0, job.Current.Fraction);
        lock (seen)
        {
            Assert.NotEmpty(seen);
            Assert.All(seen, p => Assert.Equal(30, p.Total));
        }
    }

    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task Stats_record_the_life_of_each_call(string isolation)
    {
        await using var local = new LocalCloud(isolation);
        var job = local.Cloud.Submit([Remote.TestFunctions.Echo(new byte[100])]);
        await job.GetResultsAsync();
        CallStats stats = job[0].Stats;
        Assert.Equal(1, stats.Attempt);
        Assert.True(stats.ColdStart);
        Assert.NotNull(stats.WorkerHost);
        Assert.True(stats.BytesIn >= 100);
        Assert.True(stats.BytesOut >= 100);
        Assert.True(stats.Submitted <= stats.Invoked);
        Assert.True(stats.Invoked <= stats.StatusSeen);
        Assert.True(stats.WorkerStart <= stats.WorkerEnd);
        Assert.True(stats.StatusSeen <= stats.ResultFetched);

        string svg = job.Timeline.ToSvg();
        Assert.StartsWith("<svg", svg);
        Assert.Contains("calls running", svg);
        Assert.Equal(0m, job.EstimatedCost);
    }

    [Fact]
    public void The_timeline_picture_explains_itself_with_a_legend_call_numbers_and_time_ticks()
    {
        var t0 = new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);
        var calls = Enumerable.Range(0, 20).Select(i => new CallStats
        {
            Submitted = t0,
            Invoked = t0.AddMilliseconds(10 * i),
            WorkerStart = t0.AddMilliseconds((10 * i) + 50),
            WorkerEnd = t0.AddMilliseconds((10 * i) + 250),
            StatusSeen = t0.AddMilliseconds((10 * i) + 300),
        }).ToArray();
        var states = Enumerable.Range(0, 20).Select(i => i == 3 ? RemoteCallState.Failed : RemoteCallState.Succeeded).ToArray();

        string svg = new JobTimeline("job-1", calls, states).ToSvg();

        // The legend names each part of a bar, in its colour.
        Assert.Contains(">queued (invoke to worker start), then until the status was seen</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">running on a worker</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">failed</text>", svg, StringComparison.Ordinal);
        // Call numbers every 5 calls (4 pixels a row, at least 12 between labels), and the axis's name.
        Assert.Contains(">0</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">5</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">15</text>", svg, StringComparison.Ordinal);
        Assert.DoesNotContain(">3</text>", svg, StringComparison.Ordinal);
        // The job took 0.49 s: ticks every 0.1 s (about eight, rounded up to 1, 2 or 5 times a power of ten), with the
        // decimals they need, and the axis's name.
        Assert.Contains(">0.0</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">0.2</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">0.4</text>", svg, StringComparison.Ordinal);
        Assert.DoesNotContain(">0.5</text>", svg, StringComparison.Ordinal);
        Assert.Contains("seconds since the job was submitted", svg, StringComparison.Ordinal);
        Assert.Equal(0.1, JobTimeline.NiceStep(0.49 / 8), 10);
        Assert.Equal(2, JobTimeline.NiceStep(1.3));
        Assert.Equal(10, JobTimeline.NiceStep(7));
    }
}
