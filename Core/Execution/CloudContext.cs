using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>What every job of one <see cref="Cloud"/> shares: options, stores and the backend.</summary>
internal sealed class CloudContext
{
    public CloudContext(NeutralOptions options, IObjectStore root, StoreLocation location, IComputeBackend backend)
    {
        Options = options;
        Root = root;
        Location = location;
        Backend = backend;
        Jobs = new PrefixedObjectStore(root, location.Prefix);
        User = new UserObjectStore(root, location.Prefix);
    }

    public NeutralOptions Options { get; }

    /// <summary>The whole store.</summary>
    public IObjectStore Root { get; }

    /// <summary>Neutral's internal key space (job data, shared values).</summary>
    public PrefixedObjectStore Jobs { get; }

    /// <summary>The user key space.</summary>
    public UserObjectStore User { get; }

    public StoreLocation Location { get; }

    public IComputeBackend Backend { get; }
}
