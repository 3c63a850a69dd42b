using BenchmarkDotNet.Running;

namespace Neutral.Benchmarks;

public static class Program
{
    /// <summary>Runs the benchmarks; pass BenchmarkDotNet arguments, e.g. <c>--filter *Codec* --job short</c>.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
