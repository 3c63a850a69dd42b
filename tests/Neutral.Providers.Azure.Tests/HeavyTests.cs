namespace Neutral.Providers.Azure.Tests;

/// <summary>
/// Tests that load the whole machine (a 1,000-call job on four emulated host instances, a storage restart, a published
/// app's 1,000 calls) run alone, after the others: beside them, on two cores, a test waiting for its first invocation
/// on a fake clock's bounded steps could time out while nothing is wrong (CI saw a two-minute stall of that kind).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyTests
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Heavy Azure tests (alone)";
}
