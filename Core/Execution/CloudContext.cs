using System;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>What every job of one <see cref="Cloud"/> shares: options, stores, the backend, the clock and the invoke gate.</summary>
internal sealed class CloudContext
{
    public CloudContext(NeutralOptions options, IObjectStore root, StoreLocation location, IComputeBackend backend, ILogger logger)
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
    }

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
