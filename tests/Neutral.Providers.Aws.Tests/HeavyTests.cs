namespace Neutral.Providers.Aws.Tests;

/// <summary>
/// Tests that load the whole machine (a storage gateway restarted under a large job, a published app's calls) run
/// alone, after the others: beside them, on two cores, a test waiting for its first invocation on a fake clock's
/// bounded steps could time out while nothing is wrong (the Azure suite saw a two-minute stall of that kind).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyTests
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Heavy Aws tests (alone)";
}
