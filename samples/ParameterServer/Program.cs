using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Neutral;
using ParameterServer;

// HOGWILD!-style asynchronous SGD on a parameter server (the PyWren paper, section 3.3): workers pull the model from
// Redis, compute mini-batch gradients of a logistic regression on their shard and push the steps, with no lock among
// them; the client samples the held-out loss while they run, then trains the same way in one process to compare.
//
// export NEUTRAL__REDIS__CONFIGURATION=127.0.0.1:6379 NEUTRAL__STORES__PARAMS=redis
// dotnet run -c Release --project samples/ParameterServer [-- [--rows 200000] [--dims 100] [--shards 8] [--epochs 2]
//     [--batch 100] [--lr 0.5] [--staleness -1] [--store params] [--plot loss.svg]]
// --staleness K bounds how many pushes a worker may run ahead of the slowest (-1: none, plain HOGWILD!).
int rows, dims, shards, epochs, batch, staleness, heldOut;
double rate;
string store;
string? plot;
string[] known = ["--rows", "--dims", "--shards", "--epochs", "--batch", "--lr", "--staleness", "--held-out", "--store", "--plot"];
try
{
    for (int i = 0; i < args.Length; i += 2)
    {
        if (!known.Contains(args[i]))
        {
            throw new FormatException($"unknown argument '{args[i]}' (known: {string.Join(" ", known)})");
        }
    }

    rows = Whole("--rows", 200_000, 100, 100_000_000);
    dims = Whole("--dims", 100, 1, 100_000);
    shards = Whole("--shards", 8, 1, 10_000);
    epochs = Whole("--epochs", 2, 1, 1_000);
    batch = Whole("--batch", 100, 1, 1_000_000);
    staleness = Whole("--staleness", -1, -1, 1_000_000);
    heldOut = Whole("--held-out", 10_000, 100, 10_000_000);
    rate = double.Parse(Text("--lr") ?? "0.5", CultureInfo.InvariantCulture);
    if (!(rate > 0 && rate <= 100))
    {
        throw new FormatException("--lr is a learning rate above 0 and at most 100");
    }

    if (rows / shards < 1)
    {
        throw new FormatException($"--rows {rows} over --shards {shards} leaves a shard empty");
    }

    store = Text("--store") ?? "params";
    plot = Text("--plot");
}
catch (FormatException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

Cloud cloud;
try
{
    cloud = await Cloud.ConnectAsync();
    _ = cloud.StorageOf(store);
}
catch (Exception e) when (e is NeutralConfigurationException or ArgumentException or InvalidOperationException or System.Collections.Generic.KeyNotFoundException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine($"The model lives on Redis: reference a Redis server and name a store '{store}' of kind redis, e.g.");
    Console.Error.WriteLine($"  export NEUTRAL__REDIS__CONFIGURATION=127.0.0.1:6379 NEUTRAL__STORES__{store.ToUpperInvariant()}=redis");
    return 2;
}

await using (cloud)
{
    var settings = new TrainSettings(epochs, batch, rate, staleness);
    Console.WriteLine($"{rows:N0} rows x {dims} features in {shards} shards, {epochs} epochs, batches of {batch}, learning rate {rate}, "
        + $"{(staleness < 0 ? "no staleness bound" : $"staleness bound {staleness}")}, model on store '{store}', compute '{cloud.Options.Compute}'");
    TrainingResult result = await Training.RunAsync(cloud, store, "parameter-server/", rows, dims, shards, heldOut, settings,
        p => Console.WriteLine(FormattableString.Invariant($"  {p.Seconds,6:0.00} s  version {p.Version,7}  held-out loss {p.Loss:0.0000}  accuracy {p.Accuracy:P2}")));
    Console.WriteLine(FormattableString.Invariant(
        $"workers: {result.Steps:N0} pushes in {result.Seconds:0.00} s; held-out loss {result.Loss:0.0000}, accuracy {result.Accuracy:P2}"));
    Console.WriteLine(FormattableString.Invariant(
        $"one process, same epochs: {result.SingleSeconds:0.00} s; held-out loss {result.SingleLoss:0.0000}, accuracy {result.SingleAccuracy:P2}; workers reach {result.Accuracy / result.SingleAccuracy:0.000}x its accuracy"));
    if (plot is not null)
    {
        File.WriteAllText(plot, Training.Svg(result.Curve, result.SingleLoss));
        Console.WriteLine($"loss curve: {plot}");
    }
}

return 0;

int Whole(string name, int fallback, int min, int max)
{
    string? text = Text(name);
    if (text is null)
    {
        return fallback;
    }

    return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
        ? value
        : throw new FormatException($"{name} is a whole number from {min} to {max}, not '{text}'");
}

string? Text(string name)
{
    int at = Array.IndexOf(args, name);
    if (at >= 0 && at + 1 >= args.Length)
    {
        throw new FormatException($"{name} needs a value");
    }

    return at >= 0 ? args[at + 1] : null;
}
