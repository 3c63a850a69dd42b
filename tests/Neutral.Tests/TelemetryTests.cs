using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace Neutral.Tests;

public static class TelemetryFunctions
{
    /// <summary>The trace the call runs in, as its own code sees it: trace id and parent span id, or "none".</summary>
    [Remote]
    public static string TraceSeen(int i) =>
        Activity.Current is { } span ? $"{span.TraceId.ToHexString()}/{span.ParentSpanId.ToHexString()}" : "none";
}

/// <summary>Listeners are process-wide: these tests run alone, so that they see only their own jobs' measurements.</summary>
[CollectionDefinition(nameof(TelemetryRunsAlone), DisableParallelization = true)]
public sealed class TelemetryRunsAlone;

/// <summary>The <c>Neutral</c> activity source and meter: spans from client to worker, and the counters.</summary>
[Collection(nameof(TelemetryRunsAlone))]
public sealed class TelemetryTests
{
    [Theory]
    [InlineData("process")]
    [InlineData("inproc")]
    public async Task A_traced_job_has_job_stage_and_invoke_spans_and_each_call_runs_as_its_invocations_child(string isolation)
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Neutral",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var local = new LocalCloud(isolation);
        Activity? before = Activity.Current;
        RemoteJob<string> job = local.Cloud.Submit(Enumerable.Range(0, 3).Select(i => Remote.TelemetryFunctions.TraceSeen(i)));
        Assert.Same(before, Activity.Current); // the job's span is not the caller's current one
        string[] seen = await job.GetResultsAsync();
        await job.Completion;

        var mine = stopped.Where(a => (string?)a.GetTagItem("neutral.job.id") == job.JobId).ToList();
        Activity span = Assert.Single(mine, a => a.OperationName == "neutral.job");
        Assert.Equal(3, span.GetTagItem("neutral.job.calls"));
        Assert.Equal(3, span.GetTagItem("neutral.job.succeeded"));
        Assert.Equal(ActivityStatusCode.Ok, span.Status);
        Activity stage = Assert.Single(stopped, a => a.OperationName == "neutral.stage" && a.TraceId == span.TraceId);
        Assert.Equal(span.SpanId, stage.ParentSpanId);

        for (int i = 0; i < 3; i++)
        {
            Activity invoke = Assert.Single(mine, a => a.OperationName == "neutral.invoke" && (int)a.GetTagItem("neutral.call")! == i);
            Assert.Equal(span.TraceId, invoke.TraceId);
            Assert.Equal(span.SpanId, invoke.ParentSpanId);
            // In the worker (another process, or a thread here), the call's code runs inside a span whose parent is
            // the invocation's: the trace crossed the envelope.
            Assert.Equal($"{invoke.TraceId.ToHexString()}/{invoke.SpanId.ToHexString()}", seen[i]);
        }

        if (isolation == "inproc")
        {
            // The worker's own span, recorded where someone listens (here, this process).
            Assert.Equal(3, mine.Count(a => a.OperationName == "neutral.call" && a.Kind == ActivityKind.Server));
        }
    }

    [Fact]
    public async Task The_meter_counts_attempts_outcomes_retries_and_run_times()
    {
        var totals = new ConcurrentDictionary<string, double>();
        var durations = new ConcurrentBag<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Neutral")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => totals.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => durations.Add(value));
        listener.Start();

        await using var local = new LocalCloud("inproc");
        // 0 and 2 succeed, 1 and 3 fail (a user exception, not retried); then one call that fails twice and is retried.
        await Assert.ThrowsAsync<RemoteJobException>(() => local.Cloud.MapAsync(Enumerable.Range(0, 4), i => Remote.TestFunctions.FailIfOdd(i)));
        Assert.Equal(7, await local.Cloud.CallAsync(Remote.FaultFunctions.FlakyUntilThirdAttempt(7)));

        Assert.Equal(4 + 3, totals.GetValueOrDefault("neutral.attempts.started"));
        Assert.Equal(2 + 1, totals.GetValueOrDefault("neutral.calls.succeeded"));
        Assert.Equal(2, totals.GetValueOrDefault("neutral.calls.failed"));
        Assert.Equal(2, totals.GetValueOrDefault("neutral.retries"));
        Assert.Equal(0, totals.GetValueOrDefault("neutral.throttles"));
        Assert.Equal(3, durations.Count);
        Assert.All(durations, d => Assert.True(d >= 0));
    }
}
