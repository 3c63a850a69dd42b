using System;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace Neutral.Testing.Compute;

/// <summary><c>Job:InvokeFrom=cloud</c> on a provider's emulator and its real worker: what every provider's test checks.</summary>
public static class CloudLaunchChecks
{
    /// <summary>
    /// Runs <paramref name="calls"/> calls through <paramref name="cloud"/> (connected with <c>InvokeFrom=cloud</c>) and
    /// checks that launcher calls sent them: groups of 500 at most, with perhaps a few small groups the client sent
    /// itself while the job was being queued; every call invoked once, at its first attempt.
    /// </summary>
    /// <param name="cloud">The client.</param>
    /// <param name="calls">How many calls.</param>
    /// <param name="launchers">The emulator's count of launcher invocations.</param>
    /// <param name="invocations">The emulator's count of all invocations.</param>
    public static async Task RunAsync(Cloud cloud, int calls, Func<int> launchers, Func<int> invocations)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        ArgumentNullException.ThrowIfNull(launchers);
        ArgumentNullException.ThrowIfNull(invocations);
        RemoteJob<long> job = cloud.Submit(Enumerable.Range(0, calls).Select(i => Remote.ContractFunctions.Square(i)));
        Assert.Equal(Enumerable.Range(0, calls).Select(i => (long)i * i), await job.GetResultsAsync());
        Assert.InRange(launchers(), (calls + 499) / 500, 20);
        Assert.Equal(calls + launchers(), invocations());
        Assert.All(job.Futures, f => Assert.Equal(1, f.Stats.Attempt));
    }
}
