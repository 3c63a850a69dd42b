using System;
using Neutral;

namespace MonteCarlo;

/// <summary>Existing code: estimates π by throwing random points at the unit square.</summary>
public static class PiEstimator
{
    /// <summary>Counts how many of <paramref name="samples"/> random points fall inside the quarter circle.</summary>
    /// <param name="seed">The random seed: each call gets its own.</param>
    /// <param name="samples">How many points to throw.</param>
    [Remote]
    public static long CountInside(int seed, int samples)
    {
        var random = new Random(seed);
        long inside = 0;
        for (int i = 0; i < samples; i++)
        {
            double x = random.NextDouble();
            double y = random.NextDouble();
            if ((x * x) + (y * y) <= 1.0)
            {
                inside++;
            }
        }

        return inside;
    }
}
