using System;

namespace Neutral;

/// <summary>
/// Neutral's settings, read from the <c>Neutral</c> configuration section (<c>neutral.json</c>, appsettings, or
/// <c>NEUTRAL__*</c> environment variables). With none at all, Neutral runs locally.
/// </summary>
public sealed class NeutralOptions
{
    /// <summary>Where calls run: <c>local</c> (default), or a registered provider (<c>aws</c>, <c>azure</c>, <c>openwhisk</c>).</summary>
    public string Compute { get; set; } = "local";

    /// <summary>Where job data lives: <c>local</c>, <c>s3</c>, <c>azureblob</c>, <c>minio</c>, <c>redis</c>; <see langword="null"/> follows <see cref="Compute"/>.</summary>
    public string? Storage { get; set; }

    /// <summary>Defaults for every job.</summary>
    public JobOptions Job { get; } = new();

    /// <summary>The local provider.</summary>
    public LocalOptions Local { get; } = new();
}

/// <summary>Defaults for every job (a method's <c>[Remote(...)]</c> settings win).</summary>
public sealed class JobOptions
{
    /// <summary>Attempts after the first for platform faults (and user exceptions with <c>RetryOnException</c>). Default 2.</summary>
    public int Retries { get; set; } = 2;

    /// <summary>Seconds after which an attempt is abandoned. Default 300.</summary>
    public int TimeoutSeconds { get; set; } = 300;

    /// <summary>Whether stragglers get a speculative backup attempt. Default true.</summary>
    public bool Speculation { get; set; } = true;

    /// <summary>Whether job data stays in storage after the results are read (for debugging). Default false.</summary>
    public bool KeepData { get; set; }
}

/// <summary>How the local provider runs calls.</summary>
public sealed class LocalOptions
{
    /// <summary>Worker processes (or threads with <c>inproc</c>); 0 means one per core.</summary>
    public int Workers { get; set; }

    /// <summary><c>process</c> (default): warm worker processes; <c>inproc</c>: threads in this process, for debugging.</summary>
    public string Isolation { get; set; } = "process";

    /// <summary>The folder of the local object store. Default <c>.neutral</c> in the working directory.</summary>
    public string Root { get; set; } = ".neutral";

    /// <summary>
    /// A custom worker executable (for example a NativeAOT build of your application that calls
    /// <c>LocalWorker.RunAsync</c>), started with the argument <c>local</c>. By default the generic host
    /// (<c>Neutral.Workers.dll</c>) loads your assemblies.
    /// </summary>
    public string? WorkerCommand { get; set; }

    /// <summary>The effective number of workers.</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
}
