using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

namespace Neutral.Tests;

public static class WorkerFaultFunctions
{
    /// <summary>Throws from <paramref name="depth"/> frames down with a message of <paramref name="length"/> characters.</summary>
    [Remote]
    public static int ThrowHuge(int length, int depth) => Recurse(length, depth);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Recurse(int length, int depth) =>
        depth == 0 ? throw new InvalidOperationException(new string('m', length)) : Recurse(length, depth - 1) + 1;
}

/// <summary>Faults inside a local worker process: what the client sees, and that the worker slot survives.</summary>
public sealed class WorkerFaultTests
{
    [Fact]
    public async Task A_two_million_character_exception_fails_its_call_with_a_truncated_message_and_the_worker_serves_on()
    {
        await using var local = new LocalCloud(workers: 1);
        var error = await Assert.ThrowsAsync<RemoteException>(() => local.Cloud.CallAsync(Remote.WorkerFaultFunctions.ThrowHuge(2_000_000, 3000)));
        Assert.Equal("System.InvalidOperationException", error.RemoteTypeName);
        Assert.StartsWith("mmmm", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("... [truncated: 1,983,616 more characters]", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Message.Length, 16 * 1024, 17 * 1024);
        Assert.InRange(error.RemoteStackTrace!.Length, 1000, 33 * 1024);
        Assert.Contains("Recurse", error.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal(1, error.Attempt);

        // The same (only) worker slot runs the next call.
        Assert.Equal(4, await local.Cloud.CallAsync(Remote.TestFunctions.Add(2, 2)));
    }
}
