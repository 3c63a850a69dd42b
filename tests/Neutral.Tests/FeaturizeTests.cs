using System;
using System.Linq;
using System.Threading.Tasks;
using Featurize;
using Neutral.Storage;

namespace Neutral.Tests;

/// <summary>The Featurize sample's map + monolithic reduce on the local provider.</summary>
public sealed class FeaturizeTests
{
    [Fact]
    public async Task Features_made_by_workers_train_a_classifier_far_above_chance()
    {
        await using var local = new LocalCloud();
        FeaturizeResult result = await FeaturizeRun.RunAsync(local.Cloud, "featurize-test/", images: 3_000, batch: 250);
        Assert.Equal(2_500, result.TrainImages);
        Assert.True(result.TestAccuracy > 0.6, $"test accuracy {result.TestAccuracy:P1} (chance: 10 %)");
        Assert.Empty(await local.Cloud.Storage.ListAsync("featurize-test/").ToListAsync());
    }

    [Fact]
    public void Images_are_the_same_for_the_same_index_and_every_class_is_drawn()
    {
        byte[] a = new byte[Images.Size * Images.Size], b = new byte[Images.Size * Images.Size];
        Assert.Equal(Images.Draw(41, a), Images.Draw(41, b));
        Assert.Equal(a, b);
        Assert.Equal(Enumerable.Range(0, Images.Classes.Length), Enumerable.Range(0, 500).Select(i => Images.Draw(i, a)).Distinct().Order());

        // A descriptor has unit length; a blank image has none to speak of.
        float[] features = new float[Hog.Dims];
        Hog.Describe(b, features);
        Assert.Equal(1.0, Math.Sqrt(features.Sum(f => (double)f * f)), 3);
        Hog.Describe(new byte[Images.Size * Images.Size], features);
        Assert.All(features, f => Assert.Equal(0f, f));
    }
}
