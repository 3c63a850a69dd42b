using System;
using System.Collections.Generic;
using System.Linq;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>What every job of one <see cref="Cloud"/> shares: options, stores, the backend, the clock and the invoke gate.</summary>
internal sealed class CloudContext
{
    public CloudContext(NeutralOptions options, IObjectStore root, StoreLocation location, IComputeBackend backend, ILogger logger,
        IReadOnlyDictionary<string, (IObjectStore Root, StoreLocation Location)>? stores = null)
    {
        Options = options;
        Time = options.TimeProvider;
        Logger = logger;
        Root = new ResilientObjectStore(root, Time, TimeSpan.FromSeconds(options.Job.StoreRetrySeconds), logger);
        Location = location;
        Backend = backend;
        Jobs = new PrefixedObjectStore(Root, location.Prefix);
        User = new UserObjectStore(Root, location.Prefix);
        Gate = new InvokeGate(options.Job.InvokeConcurrency);
        Owner = OwnerOf(Environment.ProcessId);
        ClientId = JobCleanup.NewId(Time.GetUtcNow());
        Cleanup = new JobCleanup(this);
        foreach (var (name, (store, at)) in stores ?? new Dictionary<string, (IObjectStore, StoreLocation)>())
        {
            var resilient = new ResilientObjectStore(store, Time, TimeSpan.FromSeconds(options.Job.StoreRetrySeconds), logger);
            _stores[name] = new NamedStore(name, new UserObjectStore(resilient, at.Prefix), new PrefixedObjectStore(resilient, at.Prefix), at);
        }

        Locations = _stores.Count == 0 ? null : _stores.ToDictionary(s => s.Key, s => s.Value.Location, StringComparer.Ordinal);
    }

    private readonly Dictionary<string, NamedStore> _stores = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The named stores.</summary>
    public IEnumerable<NamedStore> Stores => _stores.Values;

    /// <summary>Where workers find the named stores (the envelope's <c>stores</c>), or null when there are none.</summary>
    public IReadOnlyDictionary<string, StoreLocation>? Locations { get; }

    /// <summary>The store named <paramref name="name"/> in <c>Neutral:Stores</c>.</summary>
    /// <exception cref="ArgumentException">No store of that name.</exception>
    public NamedStore Store(string name) =>
        _stores.TryGetValue(name, out NamedStore? store) ? store
        : throw new ArgumentException($"No store named '{name}' (configured: {(_stores.Count == 0 ? "none" : string.Join(", ", _stores.Keys))}). Name it in configuration: Neutral:Stores:{name}:Kind (redis, s3, ...).", nameof(name));

    public NeutralOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>The whole store, with retries.</summary>
    public ResilientObjectStore Root { get; }

    /// <summary>Neutral's internal key space (job data, shared values).</summary>
    public PrefixedObjectStore Jobs { get; }

    /// <summary>The user key space.</summary>
    public UserObjectStore User { get; }

    public StoreLocation Location { get; }

    public IComputeBackend Backend { get; }

    /// <summary>Bounds this cloud's invocations in flight.</summary>
    public InvokeGate Gate { get; }

    /// <summary>This client, as job manifests record it (host, process id, process start).</summary>
    public string Owner { get; }

    /// <summary>This client's id: its shared values live under <c>shared/{ClientId}/</c>.</summary>
    public string ClientId { get; }

    public JobCleanup Cleanup { get; }

    /// <summary>Fires when the cloud is being disposed: jobs that others' calls read from stop waiting for them.</summary>
    public System.Threading.CancellationToken Disposing { get; set; }

    internal static string OwnerOf(int processId)
    {
        long start = 0;
        try
        {
            using var process = Process.GetProcessById(processId);
            start = process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
        }

        return Environment.MachineName + "/" + processId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + start.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>A store named in <c>Neutral:Stores</c>, as the client uses it (with retries).</summary>
internal sealed record NamedStore(string Name, UserObjectStore User, PrefixedObjectStore Internal, StoreLocation Location);
