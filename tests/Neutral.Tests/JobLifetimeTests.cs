using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Xunit;

namespace Neutral.Tests;

/// <summary>A finished job is not kept by its cloud: a service that runs jobs all day does not grow with them.</summary>
public sealed class JobLifetimeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_finished_job_is_collected_once_the_application_lets_go_of_it(bool keepData)
    {
        await using var rig = new SimulatedRig(o => o.Job.KeepData = keepData);
        WeakReference job = await RunAndForgetAsync(rig);
        for (int i = 0; i < 20 && job.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(50);
        }

        Assert.False(job.IsAlive, "the cloud still holds a finished job");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> RunAndForgetAsync(SimulatedRig rig)
    {
        var job = rig.Cloud.Submit(Enumerable.Range(0, 50).Select(i => Remote.TestFunctions.Square(i)));
        await rig.DriveAsync(job.GetResultsAsync());
        await rig.DriveAsync(job.Completion);
        return new WeakReference(job);
    }
}
