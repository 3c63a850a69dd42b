using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Tests;

public sealed record Point(int X, int Y);

public static class TestFunctions
{
    [Remote] public static int Add(int a, int b) => a + b;

    [Remote] public static int Noop() => 0;

    [Remote] public static string Describe(Point point, (int, string) pair) => $"{point.X},{point.Y}:{pair.Item1}{pair.Item2}";

    [Remote] public static long Sum(long[] values) => values.Sum();

    [Remote] public static int Square(int x) => x * x;

    [Remote] public static int Length(string text) => text.Length;

    [Remote] public static int FailIfOdd(int x) => x % 2 == 1 ? throw new ArgumentException($"odd input {x}") : x;

    [Remote] public static int ProcessId() => Environment.ProcessId;

    [Remote] public static byte[] Echo(byte[] data) => data;

    [Remote] public static byte[] Make(int size, byte fill) => Enumerable.Repeat(fill, size).ToArray();
}

public static class FaultFunctions
{
    /// <summary>Writes its worker's process id to storage, then waits; returns quickly on a later attempt.</summary>
    [Remote(Retries = 2)]
    public static async Task<int> WaitToBeKilled(string marker, int value, RemoteContext context)
    {
        if (context.Attempt == 1)
        {
            await context.Storage.PutAsync(marker, System.Text.Encoding.UTF8.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            await Task.Delay(TimeSpan.FromSeconds(60), context.CancellationToken);
        }

        return value * 2;
    }

    [Remote(TimeoutSeconds = 1, Retries = 1)]
    public static int HangForever()
    {
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    [Remote(TimeoutSeconds = 1, Retries = 1)]
    public static async Task<int> HangCooperatively(RemoteContext context)
    {
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        return 0;
    }

    [Remote(TimeoutSeconds = 1, Retries = 0)]
    public static int ShortButQueued(int index)
    {
        Thread.Sleep(300);
        return index;
    }

    [Remote]
    public static int SlowFirstAttempt(int index, RemoteContext context)
    {
        if (index == 0 && context.Attempt == 1)
        {
            Thread.Sleep(5000);
        }

        return context.Attempt;
    }

    [Remote(RetryOnException = true, Retries = 3)]
    public static int FlakyUntilThirdAttempt(int x, RemoteContext context) =>
        context.Attempt < 3 ? throw new InvalidOperationException("flaky attempt " + context.Attempt) : x;

    /// <summary>Ends its worker process on call 1's first attempt; otherwise returns its input after a short pause.</summary>
    [Remote]
    public static int ExitOnFirstAttempt(int x, RemoteContext context)
    {
        if (x == 1 && context.Attempt == 1)
        {
            Environment.Exit(9);
        }

        Thread.Sleep(x == 0 ? 5 : 0);
        return x;
    }

    /// <summary>Waits 300 ms on its token: fails if its one-second limit started before the call did.</summary>
    [Remote(TimeoutSeconds = 1, Retries = 0)]
    public static async Task<int> CooperativeShort(int index, RemoteContext context)
    {
        await Task.Delay(300, context.CancellationToken);
        return index;
    }

    [Remote]
    public static int Sleep(int milliseconds, int result)
    {
        Thread.Sleep(milliseconds);
        return result;
    }

    [Remote]
    public static async Task<int> WaitForCancellation(string marker, RemoteContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return 0;
        }
        catch (OperationCanceledException)
        {
            await context.Storage.PutAsync(marker + "/" + context.CallIndex, new byte[] { 1 });
            throw;
        }
    }
}

public static class ContextFunctions
{
    [Remote]
    public static async Task<string> WriteToStorage(string key, string text, RemoteContext context)
    {
        await context.Storage.PutAsync(key, System.Text.Encoding.UTF8.GetBytes(text));
        byte[]? back = await context.Storage.GetAsync(key);
        return $"{context.JobId}/{context.CallIndex}/{context.Attempt}:{System.Text.Encoding.UTF8.GetString(back!)}";
    }

    /// <summary>Counts the words of the lines a chunk of stored text owns, and returns its first line.</summary>
    [Remote]
    public static async Task<(long Words, string? FirstLine)> CountWords(ObjectChunk chunk, RemoteContext context)
    {
        IReadOnlyList<string> lines = await StorageInput.ReadLinesAsync(context.Storage, chunk, context.CancellationToken);
        return (lines.Sum(l => (long)l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length), lines.Count > 0 ? lines[0] : null);
    }

    [Remote]
    public static (int ProcessId, int Fetches, long Sum) UseShared(Shared<long[]> data, int call) =>
        (Environment.ProcessId, Neutral.Dispatch.RemoteDispatch.SharedFetchCount(data.Key), data.Value.Sum());

    [Remote]
    public static int Chatty(int x, RemoteContext context)
    {
        Console.WriteLine("console says " + x);
        context.Log.WriteLine("log says " + x);
        return x;
    }

    [Remote]
    public static long Total(long[] parts) => parts.Sum();

    [Remote]
    public static long Count(int from, int to) => Enumerable.Range(from, to - from).LongCount(i => i % 3 == 0);
}

public static class SimulatedFunctions
{
    /// <summary>Returns <paramref name="result"/> once the object <paramref name="key"/> exists: the test decides when each call ends.</summary>
    [Remote]
    public static async Task<int> WaitForKey(string key, int result, RemoteContext context)
    {
        while (await context.Storage.GetAsync(key, context.CancellationToken) is null)
        {
            await Task.Delay(5, context.CancellationToken);
        }

        return result;
    }

    /// <summary>For batches: 3 fails, 5 hangs until its timeout every time, 7 hangs on its first attempt only (a straggler).</summary>
    [Remote]
    public static async Task<int> BatchProbe(int x, RemoteContext context)
    {
        if (x == 3)
        {
            throw new InvalidOperationException("bad input 3");
        }

        if (x == 5 || (x == 7 && context.Attempt == 1))
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        return x;
    }

    /// <summary>Gates the tests open (by name) to let <see cref="WaitForGate"/> calls end; in-process, for the simulated cloud.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    /// <summary>Returns <paramref name="x"/> once the test opens gate <paramref name="gate"/>.</summary>
    [Remote]
    public static async Task<int> WaitForGate(string gate, int x, RemoteContext context)
    {
        await Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(context.CancellationToken);
        return x;
    }

    /// <summary>Returns <paramref name="x"/>; with <paramref name="hang"/>, the first attempt waits for gate <paramref name="gate"/> first.</summary>
    [Remote]
    public static async Task<int> HangOnFirstAttempt(string gate, int x, bool hang, RemoteContext context)
    {
        if (hang && context.Attempt == 1)
        {
            await Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(context.CancellationToken);
        }

        return x;
    }

    [Remote(RetryOnException = true, Retries = 2)]
    public static int FailOnFirstAttempt(int x, RemoteContext context) =>
        context.Attempt == 1 ? throw new InvalidOperationException("the first attempt fails") : x;
}

/// <summary>Functions whose results feed other calls (futures as arguments).</summary>
public static class FlowFunctions
{
    /// <summary><paramref name="size"/> bytes that depend on <paramref name="seed"/>.</summary>
    [Remote]
    public static byte[] Block(int seed, int size)
    {
        var data = new byte[size];
        for (int i = 0; i < size; i++)
        {
            data[i] = (byte)((seed * 31 + i) % 251);
        }

        return data;
    }

    [Remote]
    public static byte[] Reverse(byte[] data)
    {
        var copy = (byte[])data.Clone();
        Array.Reverse(copy);
        return copy;
    }

    /// <summary>A position-weighted sum: a reversed or truncated input gives another value.</summary>
    [Remote]
    public static long Checksum(byte[] data)
    {
        long sum = 0;
        for (int i = 0; i < data.Length; i++)
        {
            sum += data[i] * (long)(i + 1);
        }

        return sum;
    }

    [Remote]
    public static long Twice(int x) => 2L * x;

    [Remote]
    public static string Label(string prefix, int value, long weight) => $"{prefix}{value}:{weight}";

    [Remote]
    public static int FirstByte(byte[] data) => data[0];

    /// <summary>Bytes tagged with the attempt that made them; call 0's first attempt waits for gate <paramref name="gate"/>.</summary>
    [Remote]
    public static async Task<byte[]> TaggedAfterGate(string gate, int size, RemoteContext context)
    {
        if (context.CallIndex == 0 && context.Attempt == 1)
        {
            await SimulatedFunctions.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(context.CancellationToken);
        }

        return Enumerable.Repeat((byte)context.Attempt, size).ToArray();
    }
}
