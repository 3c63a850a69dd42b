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

    [Remote] public static int FailIfOdd(int x) => x % 2 == 1 ? throw new ArgumentException($"odd input {x}") : x;

    [Remote] public static int ProcessId() => Environment.ProcessId;

    [Remote] public static byte[] Echo(byte[] data) => data;

    [Remote] public static byte[] Make(int size, byte fill) => Enumerable.Repeat(fill, size).ToArray();
}
