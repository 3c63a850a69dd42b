using System;
using System.Globalization;
using System.Linq;
using Featurize;
using Neutral;

// The PyWren paper's map + monolithic reduce (section 3.3, Table 2) at a size that runs anywhere: workers draw labelled
// images into the store, a map computes each image's histogram-of-oriented-gradients features, the client gathers them
// and fits one linear classifier (ML.NET's SDCA maximum entropy), and prints each phase's time and the accuracies.
//
// dotnet run -c Release --project samples/Featurize [-- [--images 60000] [--batch 1000]]
int images, batch;
try
{
    string[] known = ["--images", "--batch"];
    for (int i = 0; i < args.Length; i += 2)
    {
        if (!known.Contains(args[i]) || i + 1 >= args.Length)
        {
            throw new FormatException($"unknown argument or missing value at '{args[i]}' (known: {string.Join(" ", known)})");
        }
    }

    images = Whole("--images", 60_000, 60, 10_000_000);
    batch = Whole("--batch", 1_000, 1, 1_000_000);
}
catch (FormatException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

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
FeaturizeResult result = await FeaturizeRun.RunAsync(cloud, "featurize/", images, batch);
Console.WriteLine($"{result.Images:N0} images of {Images.Size} x {Images.Size} in {Images.Classes.Length} classes ({result.TrainImages:N0} to train, {result.Images - result.TrainImages:N0} to test), batches of {batch}, on '{cloud.Options.Compute}'");
Console.WriteLine("| phase | seconds |");
Console.WriteLine("|---|---|");
Console.WriteLine(FormattableString.Invariant($"| generate (workers, into the store) | {result.Generate:0.00} |"));
Console.WriteLine(FormattableString.Invariant($"| featurize (map, {Hog.Dims} HOG features an image) | {result.Featurize:0.00} |"));
Console.WriteLine(FormattableString.Invariant($"| gather (monolithic reduce, in the client) | {result.Gather:0.00} |"));
Console.WriteLine(FormattableString.Invariant($"| fit a linear classifier (in the client) | {result.Train:0.00} |"));
Console.WriteLine(FormattableString.Invariant($"accuracy: train {result.TrainAccuracy:P2}, test {result.TestAccuracy:P2} (chance: {1.0 / Images.Classes.Length:P0})"));
return 0;

int Whole(string name, int fallback, int min, int max)
{
    int at = Array.IndexOf(args, name);
    if (at < 0)
    {
        return fallback;
    }

    string text = args[at + 1];
    return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
        ? value
        : throw new FormatException($"{name} is a whole number from {min} to {max}, not '{text}'");
}
