using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Azure.Storage.Queues;
using Neutral.Emulators;
using Neutral.Testing;

namespace Neutral.Providers.Azure.Tests;

public static class RestartFunctions
{
    /// <summary>A call that takes a moment, so that the storage goes away while many are running.</summary>
    [Remote(TimeoutSeconds = 15)]
    public static async Task<long> Cube(int x, RemoteContext context)
    {
        await Task.Delay(50, context.CancellationToken);
        return (long)x * x * x;
    }
}

/// <summary>
/// Azurite (Blob and Queue) restarted in the middle of a 1,000-call job on the emulated Functions host: calls whose
/// storage operations fail, in the client, the host or the handler, are retried; nothing is lost and every call has
/// exactly one status. The job's storage is the restartable Azurite (data on disk), restarted by this test alone.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(HeavyTests.Name)]
public sealed class AzuriteRestartTests(RestartableBlobContainer container) : IClassFixture<RestartableBlobContainer>
{
    [Fact]
    public async Task A_1000_call_job_survives_the_storage_restarting_in_the_middle_with_every_call_once()
    {
        const string App = "neutral-restart";
        string queue = "neutral-calls-" + Guid.NewGuid().ToString("N")[..12];
        using var app = new TempFolder("neutral-function-app");
        await TestApp.PublishRecordAsync(container.Store, App);
        await using var host = new FunctionsHost(TestApp.Write(app.Path), TestApp.Settings(container.ConnectionString, queue), instances: 4);
        AzureProvider.Register();
        await using Cloud cloud = Cloud.Connect(container.Configuration(
            ("Neutral:Compute", "azure"), ("Neutral:Azure:App", App), ("Neutral:Azure:Queue", queue),
            ("Neutral:Job:KeepData", "true"), ("Neutral:Job:Retries", "5"), ("Neutral:Job:StartTimeoutSeconds", "20")));

        const int Calls = 1000;
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, Calls).Select(i => Remote.RestartFunctions.Cube(i)));
        using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
        {
            while (job.Futures.Count(f => f.State == RemoteCallState.Succeeded) < 100)
            {
                await Task.Delay(20, wait.Token);
            }
        }

        int doneBefore = job.Futures.Count(f => f.State == RemoteCallState.Succeeded);
        TestServers.RestartAzurite();

        long[] cubes = await job.GetResultsAsync().WaitAsync(TimeSpan.FromMinutes(8));
        Assert.Equal(Enumerable.Range(0, Calls).Select(i => (long)i * i * i), cubes);
        Assert.True(doneBefore < Calls, "the job ended before the restart: the test did not test a restart");

        var statuses = new List<string>();
        await foreach (ObjectInfo item in container.Store.ListAsync(Cloud.InternalPrefix))
        {
            if (item.Key.Contains(job.JobId, StringComparison.Ordinal) && item.Key.EndsWith("/status", StringComparison.Ordinal))
            {
                statuses.Add(item.Key);
            }
        }

        Assert.Equal(Calls, statuses.Count);
        await new QueueClient(container.ConnectionString, queue).DeleteIfExistsAsync();
        await new QueueClient(container.ConnectionString, queue + "-poison").DeleteIfExistsAsync();
    }
}
