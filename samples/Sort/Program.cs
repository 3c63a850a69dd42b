using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Neutral;
using Neutral.Storage;
using Sort;

// TeraSort in four stages of remote calls: generate 100-byte records straight into the store, sample keys for the range
// boundaries, partition every input part by range (a shuffle: one intermediate object per map call), sort each range and
// write it as an output part, then validate: every output part in order, the parts' ranges in order, and the output a
// permutation of the input (record count and an order-independent checksum, as valsort reports).
//
// dotnet run -c Release --project samples/Sort [-- [--records 1000000] [--parts 8] [--partitions 8] [--scratch NAME]]
// --scratch NAME keeps the intermediate data in the store Neutral:Stores:NAME (for example NEUTRAL__STORES__SCRATCH=redis).
long records = Option("--records", 1_000_000);
int parts = (int)Option("--parts", 8);
int partitions = (int)Option("--partitions", 8);
string? scratch = Text("--scratch");

Cloud connected;
try
{
    connected = await Cloud.ConnectAsync();
}
catch (NeutralConfigurationException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

await using Cloud cloud = connected;
SortRun run;
try
{
    run = await SortRun.RunAsync(cloud, "sort/", records, parts, partitions, scratch);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

Console.WriteLine($"generate {records:N0} records ({records * TeraSort.RecordBytes / 1024.0 / 1024.0:0.0} MiB) in {parts} parts: {run.Generate.TotalSeconds:0.00} s");
Console.WriteLine($"sample and boundaries: {run.Sample.TotalSeconds:0.00} s");
Console.WriteLine($"partition and sort into {partitions} ranges{(scratch is null ? "" : $" (intermediate data on '{scratch}')")}: {run.Sort.TotalSeconds:0.00} s "
    + $"({records * TeraSort.RecordBytes / 1024.0 / 1024.0 / run.Sort.TotalSeconds:0.0} MiB/s)");
Console.WriteLine($"validate: {run.Validate.TotalSeconds:0.00} s: {run.Output.Records:N0} records, checksum {run.Output.Checksum:x16} "
    + $"(input {run.Input.Records:N0}, {run.Input.Checksum:x16}), {run.Unordered} out of order: {(run.Valid ? "SORTED, a permutation of the input" : "INVALID")}");
await cloud.Storage.DeletePrefixAsync("sort/");
return run.Valid ? 0 : 1;

string? Text(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

long Option(string name, long fallback) => Text(name) is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;
