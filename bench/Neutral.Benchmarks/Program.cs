using BenchmarkDotNet.Running;

namespace Neutral.Benchmarks;

public static class Program
{
    /// <summary>Runs the benchmarks; pass BenchmarkDotNet arguments, e.g. <c>--filter *Codec* --job short</c>.</summary>
    public static async System.Threading.Tasks.Task Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "executor")
        {
            Neutral.Bench.BenchFunctions.EnsureRegistered();
            await ExecutorHarness.RunAsync(args);
            return;
        }

        if (args.Length > 0 && args[0] == "simulated")
        {
            Neutral.Bench.BenchFunctions.EnsureRegistered();
            await SimulatedHarness.RunAsync(args);
            return;
        }

        switch (args.Length > 0 ? args[0] : null)
        {
            case "openwhisk-invoke":
                Neutral.Bench.BenchFunctions.EnsureRegistered();
                await OpenWhiskInvokeHarness.RunAsync();
                return;
            case "minio-store":
                await MinioStoreHarness.RunAsync();
                return;
            case "aws-invoke":
                Neutral.Bench.BenchFunctions.EnsureRegistered();
                await AwsHarness.InvokeAsync();
                return;
            case "s3-store":
                await AwsHarness.StoreAsync();
                return;
            case "azure-invoke":
                Neutral.Bench.BenchFunctions.EnsureRegistered();
                await AzureHarness.InvokeAsync();
                return;
            case "blob-store":
                await AzureHarness.StoreAsync();
                return;
            case "wordcount":
                await GeneralityHarness.WordCountAsync(args);
                return;
            case "sort":
                await GeneralityHarness.SortAsync(args);
                return;
            case "shuffle":
                Neutral.Bench.BenchFunctions.EnsureRegistered();
                await ShuffleHarness.RunAsync(args);
                return;
            case "paper":
                await PaperHarness.RunAsync(args);
                return;
            case "redis-store":
                await RedisStoreHarness.RunAsync();
                return;
            case "aws-launch" when !System.OperatingSystem.IsWindows():
                await LaunchHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000,
                    args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100);
                return;
            case "aws-cold":
                await LambdaColdStartHarness.RunAsync(args[1..]);
                return;
            case "openwhisk-cold":
                await ActionColdStartHarness.RunAsync(args[1..]);
                return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
