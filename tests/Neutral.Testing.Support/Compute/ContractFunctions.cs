using System;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Testing.Compute;

/// <summary>The functions <see cref="ComputeBackendContract"/> runs on every provider's worker.</summary>
public static class ContractFunctions
{
    /// <summary>Hangs in its first attempt (until the worker is killed or the call times out); returns <paramref name="x"/> in a later one.</summary>
    /// <remarks>
    /// The timeout is the process's own, in real time, from the moment it starts the call: it must stay well beyond the
    /// moment the test kills the process, however loaded the machine (at 5 s, one CI run saw the call time out first).
    /// The client's deadline for the attempt runs on the test's fake clock.
    /// </remarks>
    [Remote(TimeoutSeconds = 60)]
    public static async Task<int> HangOnFirstAttempt(int x, RemoteContext context)
    {
        if (context.Attempt == 1)
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        return x;
    }

    /// <summary>Call 0's first attempt hangs (a straggler, with a timeout far away); every other attempt returns its attempt number.</summary>
    [Remote(TimeoutSeconds = 600)]
    public static async Task<int> StragglerAtZero(int x, RemoteContext context)
    {
        if (x == 0 && context.Attempt == 1)
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        return context.Attempt;
    }

    /// <summary>Takes a moment, so that a job of these is still running when it is cancelled.</summary>
    [Remote]
    public static async Task<int> Slow(int x, RemoteContext context)
    {
        await Task.Delay(200, context.CancellationToken);
        return x;
    }

    /// <summary>A call that takes a moment, so that the store goes away while many are running.</summary>
    [Remote(TimeoutSeconds = 15)]
    public static async Task<long> Cube(int x, RemoteContext context)
    {
        await Task.Delay(50, context.CancellationToken);
        return (long)x * x * x;
    }

    /// <summary>
    /// <see cref="Cube"/>, but first waiting for the file <paramref name="gate"/> when one is named (workers run on the
    /// test's machine): a job with such a call cannot end before the test opens the gate.
    /// </summary>
    [Remote(TimeoutSeconds = 60)]
    public static async Task<long> GatedCube(int x, string? gate, RemoteContext context)
    {
        while (gate is not null && !System.IO.File.Exists(gate))
        {
            await Task.Delay(20, context.CancellationToken);
        }

        return await Cube(x, context);
    }

    /// <summary>At once.</summary>
    [Remote]
    public static long Square(int x) => (long)x * x;

    /// <summary>A user's failure at 3.</summary>
    [Remote]
    public static int FailAtThree(int x) => x == 3 ? throw new InvalidOperationException("three") : x;
}
