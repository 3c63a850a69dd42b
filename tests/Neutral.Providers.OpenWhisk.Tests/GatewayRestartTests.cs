using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Testing;

namespace Neutral.Providers.OpenWhisk.Tests;

public static class RestartFunctions
{
    /// <summary>A call that takes a moment, so that the store goes away while many are running.</summary>
    [Remote(TimeoutSeconds = 15)]
    public static async Task<long> Cube(int x, RemoteContext context)
    {
        await Task.Delay(50, context.CancellationToken);
        return (long)x * x * x;
    }
}

/// <summary>
/// Ceph RGW restarted in the middle of a job on the emulated cluster: calls whose store operations fail are retried,
/// nothing is lost, and every call has exactly one status. The job's bucket is on a gateway of its own (<c>ow</c>,
/// restarted by this test alone), so the tests running beside it keep theirs.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class GatewayRestartTests(RestartableS3Bucket bucket) : IClassFixture<RestartableS3Bucket>
{
    private const string Key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:throwaway-test-key";

    [Fact]
    public async Task A_job_survives_the_store_restarting_in_the_middle_with_every_call_once()
    {
        using var action = new TempFolder("neutral-action");
        using var invoker = new TempFolder("neutral-invoker");
        await using var controller = new OpenWhiskController(TestAction.Exec(action.Path), TestAction.Environment(), invoker.Path, Key, containers: 4) { Tables = TestAction.Tables() };
        OpenWhiskProvider.Register();
        await using Cloud cloud = Cloud.Connect(bucket.Configuration(
            ("Neutral:Compute", "openwhisk"), ("Neutral:OpenWhisk:ApiHost", controller.ApiHost.ToString()), ("Neutral:OpenWhisk:AuthKey", Key),
            ("Neutral:Job:KeepData", "true"), ("Neutral:Job:Retries", "5"), ("Neutral:Job:StartTimeoutSeconds", "10")));

        const int Calls = 200;
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.RestartFunctions.Cube(i)));
        using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while (job.Futures.Count(f => f.State == RemoteCallState.Succeeded) < 20)
            {
                await Task.Delay(20, wait.Token);
            }
        }

        int doneBefore = job.Futures.Count(f => f.State == RemoteCallState.Succeeded);
        TestServers.RestartGateway("ow");

        long[] cubes = await job.GetResultsAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(Enumerable.Range(0, Calls).Select(i => (long)i * i * i), cubes);
        Assert.True(doneBefore < Calls, "the job ended before the restart: the test did not test a restart");

        // One status per call, however many attempts ran.
        var statuses = new List<string>();
        await foreach (ObjectInfo item in bucket.Store.ListAsync(Cloud.InternalPrefix))
        {
            if (item.Key.Contains(job.JobId, StringComparison.Ordinal) && item.Key.EndsWith("/status", StringComparison.Ordinal))
            {
                statuses.Add(item.Key);
            }
        }

        Assert.Equal(Calls, statuses.Count);
        Assert.Equal(Calls, statuses.Distinct().Count());
    }
}
