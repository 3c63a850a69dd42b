using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Neutral.Providers;

namespace Neutral;

/// <summary>
/// Neutral's settings, read from the <c>Neutral</c> configuration section (<c>neutral.json</c>, appsettings, or
/// <c>NEUTRAL__*</c> environment variables). With none at all, Neutral runs locally.
/// </summary>
public sealed class NeutralOptions
{
    /// <summary>
    /// Where calls run: <c>local</c> (default), or the name of a referenced provider (<c>aws</c> once the package
    /// Neutral.Providers.Aws is referenced); <see cref="ProviderRegistry.ComputeNames"/> lists this build's.
    /// </summary>
    public string Compute { get; set; } = "local";

    /// <summary>
    /// Where job data lives: <c>local</c>, or the name of a referenced provider's store (<c>s3</c> with
    /// Neutral.Providers.Aws); <see cref="ProviderRegistry.StorageNames"/> lists this build's. <see langword="null"/>
    /// follows <see cref="Compute"/>.
    /// </summary>
    public string? Storage { get; set; }

    /// <summary>Defaults for every job.</summary>
    public JobOptions Job { get; } = new();

    /// <summary>
    /// The job's other stores, by name: each name maps to a store kind (<c>redis</c>, <c>s3</c>, ...) whose settings come
    /// from that kind's own section (<c>Neutral:Redis</c>, ...). Calls reach them with <c>RemoteContext.StorageOf(name)</c>,
    /// the client with <c>Cloud.StorageOf(name)</c>, and a shuffle keeps its data in one by name. Configuration:
    /// <c>Neutral:Stores:{name}:Kind</c>.
    /// </summary>
    public IDictionary<string, string> Stores { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The local provider.</summary>
    public LocalOptions Local { get; } = new();

    /// <summary>
    /// The <c>Neutral</c> configuration section these options were read from (empty when set in code): providers read
    /// their own sub-sections (<c>Aws</c>, <c>Minio</c>, ...) from it. When read, <c>Cloud.Connect</c> checks its keys:
    /// the core's, and those providers declared (<see cref="ProviderRegistry.AddSection"/>).
    /// </summary>
    public IConfiguration Configuration { get; set; } = new ConfigurationBuilder().Build();

    /// <summary>The configuration <see cref="NeutralConfiguration.Read"/> took these options from, to name where a wrong value came from.</summary>
    internal IConfiguration? ReadFrom { get; set; }

    /// <summary>The providers to choose from (default: <see cref="ProviderRegistry.Default"/>, where provider packages register).</summary>
    public ProviderRegistry Providers { get; set; } = ProviderRegistry.Default;

    /// <summary>The clock the executor times attempts with (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Where the executor logs job milestones, faults and handler errors (category <c>Neutral</c>). Default: none, or
    /// standard error when the variable <c>NEUTRAL_TRACE=1</c> is set.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;
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

    /// <summary>
    /// Seconds an accepted invocation may take to start (its <c>started.{a}</c> object to appear) before it is
    /// retried as lost: platform queueing, a lost asynchronous invocation. Default 120. Not applied while an attempt
    /// waits in a backend's own queue that reports every attempt (the local pool).
    /// </summary>
    public int StartTimeoutSeconds { get; set; } = 120;

    /// <summary>Invocation requests in flight at once per <see cref="Cloud"/>; lowered while the platform throttles. Default 64.</summary>
    public int InvokeConcurrency { get; set; } = 64;

    /// <summary>
    /// Calls of one function run by one invocation, one after another (1 to 1,000; default 1), or
    /// <see cref="AutomaticCallsPerInvocation"/> (configuration: <c>auto</c>) to choose from the calls' measured run
    /// times: a map of a million one-millisecond calls is then a thousand invocations, not a million cold ones. Each call
    /// keeps its own status, attempts, timeout, retries and speculative backup; an invocation carries at most 48 KiB of
    /// inline arguments, so calls with large arguments are batched less. The local provider runs each call of a batch
    /// on its own.
    /// </summary>
    /// <remarks>
    /// Automatic: the first invocations carry one call each; once 8 calls have succeeded, each invocation carries as
    /// many calls as their median run time (as the workers measured it) fills in about a second, at most 1,000, and
    /// never so many that the calls still to send make fewer than 1,000 invocations (the parallelism of Lambda's default
    /// account limit). Calls of a second or more are not batched.
    /// </remarks>
    public int CallsPerInvocation { get; set; } = 1;

    /// <summary>The value of <see cref="CallsPerInvocation"/> (0) that chooses the number from measured run times.</summary>
    public const int AutomaticCallsPerInvocation = 0;

    /// <summary>The most calls one invocation runs (1,000).</summary>
    public const int MaxCallsPerInvocation = 1000;

    /// <summary>
    /// Where a job's invocations are sent from: <c>client</c> (default), this process; or <c>cloud</c>, Lithops' remote
    /// invoker: the client writes the envelopes of each group of up to 500 attempts to storage and invokes one launcher
    /// call per group, which invokes them from inside the platform, near the service, under the same throttling rules.
    /// For a client far from its region, a 100,000-call job then takes hundreds of the client's invoke requests instead
    /// of 100,000. Groups of fewer than 16 attempts (retries, backups, small jobs) are invoked from the client. Lambda,
    /// Lambda (with its role), Azure's queue trigger (with its host storage) and OpenWhisk (deployed with
    /// <c>OpenWhisk:ProvideApiKey</c>) invoke themselves; the local pool, an HTTP-triggered Function App and an
    /// OpenWhisk action without its key refuse the setting at <c>Cloud.Connect</c>, saying why.
    /// </summary>
    public string InvokeFrom { get; set; } = "client";

    /// <summary>
    /// Seconds a store operation is retried through transient errors (timeouts, 5xx, throttling) before the job fails
    /// with one clear error. Default 60.
    /// </summary>
    public int StoreRetrySeconds { get; set; } = 60;

    /// <summary>
    /// Hours (fractions allowed: 0.5 is half an hour) after which a job or shared value left in storage by a client that
    /// is gone (killed before it could clean up) is deleted by the next <c>Cloud.Connect</c> on the same store. A client
    /// on the same host whose process is gone is swept at once, whatever the age of its data. Default 24; 0 turns the
    /// sweep off.
    /// </summary>
    public double SweepAfterHours { get; set; } = 24;

    /// <summary>
    /// Seconds a job's lease lasts without renewal (<c>Job:LeaseSeconds</c>): the client that drives a job renews it every
    /// third of that, and a client attached with <c>Cloud.AttachAsync</c> takes the job over once the driver's lease has
    /// not been renewed for that long. Default 30.
    /// </summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>
    /// Minutes a job whose client ended on this host (killed, or crashed) stays in the store for another client to attach
    /// to, counted from its lease's last renewal, before a later <c>Cloud.Connect</c> sweeps it (<c>Job:AttachMinutes</c>).
    /// Default 10; 0 sweeps such a job at once.
    /// </summary>
    public double AttachMinutes { get; set; } = 10;

    /// <summary>
    /// Hours (fractions allowed) for which a failed call's arguments and error are kept in the store after its job ends,
    /// even when the job's other data is deleted, so that <c>neutral replay</c> can run it again in the application's
    /// own build, under a debugger (<c>_neutral/kept/{job}/{call}.json</c>, at most 100 calls a job, the first ones, of
    /// at most 4 MiB of arguments each;
    /// deleted by a later client's sweep once expired). Default 24; 0 keeps nothing.
    /// </summary>
    public double KeepFailedHours { get; set; } = 24;

    /// <summary>
    /// Whether Ctrl-C (SIGINT) or SIGTERM while this cloud is open cancels its running jobs and cleans up what a normal
    /// end cleans up (at most about 15 s, one line on standard error), then ends the process with exit code 130 (143
    /// for SIGTERM); a second Ctrl-C ends it at once. Default true with <c>Cloud.Connect</c>; false under
    /// <c>AddNeutral</c> unless set, since a host stops on its own and disposes the cloud.
    /// </summary>
    public bool CancelOnSignal { get; set; } = true;
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
    /// Where jobs' per-call control objects (each call's status, started and failed markers, and each job's manifest)
    /// live: <c>memory</c> (default), in a folder of this user's under <c>/dev/shm</c> where the machine has that
    /// memory-backed file system, else in <see cref="Root"/>; <c>disk</c>, in <see cref="Root"/>. Inputs, outputs,
    /// shared values and everything written through <c>Cloud.Storage</c> stay in <see cref="Root"/> either way.
    /// </summary>
    public string JobData { get; set; } = "memory";

    /// <summary>
    /// A custom worker executable, whose <c>Main</c> is <c>LocalWorker.ServeStandardStreamsAsync()</c>, started with the
    /// argument <c>local</c>. By default the application's own executable is started again and becomes a worker before
    /// its <c>Main</c> (a startup hook under the JIT, the generated module initializer under NativeAOT).
    /// </summary>
    public string? WorkerCommand { get; set; }

    /// <summary>
    /// Whether what a call writes to its console (and to <c>RemoteContext.Log</c>) in a worker process is also written to
    /// this process's standard error as it happens, each line prefixed with the call index: <c>(call 17) text</c>.
    /// Default true. Either way it is kept in the call's <c>Stats.Log</c>.
    /// </summary>
    public bool ForwardOutput { get; set; } = true;

    /// <summary>Where forwarded output goes instead of standard error (tests).</summary>
    internal TextWriter? ForwardTo { get; set; }

    /// <summary>The effective number of workers.</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
}
