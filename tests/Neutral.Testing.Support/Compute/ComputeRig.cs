using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Neutral.Testing.Compute;

/// <summary>How <see cref="ComputeRig.StartAsync"/> sets a stack up.</summary>
/// <param name="Workers">Worker processes (sandboxes, instances, containers) the platform runs at once.</param>
/// <param name="RestartableStore">The job store on the server <see cref="ComputeRig.RestartStoreAsync"/> restarts (a test of its own runs there).</param>
/// <param name="BrokenWorker">A worker that cannot load the application's dispatch tables: it fails as it initializes.</param>
public sealed record RigOptions(int Workers = 2, bool RestartableStore = false, bool BrokenWorker = false);

/// <summary>
/// One compute provider's emulated stack for <see cref="ComputeBackendContract"/>: the platform's front end (an emulator
/// in tests/Emulators) driving the provider's real worker, and the real store. A provider's test project derives one;
/// what its platform cannot do, a capability says, with the reason (<see langword="null"/>: it can).
/// </summary>
public abstract class ComputeRig : IAsyncDisposable
{
    /// <summary>The platform, for messages (<c>Lambda</c>, <c>Functions (queue)</c>...).</summary>
    public abstract string Platform { get; }

    /// <summary>The job store (after <see cref="StartAsync"/>).</summary>
    public abstract IObjectStore Store { get; }

    /// <summary>Creates the store, records the deployment (this process's dispatch tables, <see cref="ContractFunctions"/> among them) and starts the platform.</summary>
    public abstract Task StartAsync(RigOptions options);

    /// <summary>The configuration that points a client at this stack (compute, store, endpoints), with <paramref name="extra"/> (later ones win).</summary>
    public abstract IConfiguration Configuration(IEnumerable<(string Key, string Value)> extra);

    /// <summary>Registers Neutral with the provider: <c>services.AddNeutral(configuration).AddX()</c>.</summary>
    public abstract void AddNeutral(IServiceCollection services, IConfiguration configuration);

    /// <summary>Invocations the platform handed to a worker.</summary>
    public abstract int Invocations { get; }

    /// <summary>Invocations running in a worker now.</summary>
    public abstract int Running { get; }

    /// <summary>Invocations that ended (any outcome).</summary>
    public abstract int Completed { get; }

    /// <summary>Invocations the platform recorded as failed (the worker died, timed out, or answered an error).</summary>
    public abstract int FailedInvocations { get; }

    /// <summary>What the platform did, for a failed test's output.</summary>
    public virtual string Journal => "";

    /// <summary>Kills the worker processes running an invocation now (as an out-of-memory kill would); returns how many.</summary>
    public abstract int KillRunning();

    /// <summary>Waits until the platform has dealt with the invocation <see cref="KillRunning"/> killed, and checks what it recorded.</summary>
    public abstract Task AfterKillAsync();

    /// <summary>Checks what the platform did with the killed invocation once the call was retried (how many processes, deliveries...).</summary>
    public virtual void AssertKilledInvocationSettled()
    {
    }

    /// <summary>
    /// What a call whose worker died fails with once out of retries: the remote type and fragments of its message
    /// (where the platform's log is, when the provider can say).
    /// </summary>
    public virtual (string TypeName, IReadOnlyList<string> Fragments) LostAttemptFailure(string jobId) =>
        (typeof(TimeoutException).FullName!, ["the call ran past its 60 s timeout ([Remote(TimeoutSeconds = ...)] or Job:TimeoutSeconds): no status by the attempt's deadline"]);

    /// <summary>Why the platform cannot hold deliveries back (<see langword="null"/>: <see cref="HoldAfter"/> works).</summary>
    public virtual string? NoHold => null;

    /// <summary>Lets <paramref name="count"/> more deliveries run, then holds the rest (as a busy platform would) until <see cref="Release"/>.</summary>
    public virtual void HoldAfter(int count) => throw new NotSupportedException(NoHold);

    /// <summary>Ends <see cref="HoldAfter"/>.</summary>
    public virtual void Release() => throw new NotSupportedException(NoHold);

    /// <summary>Why the platform never throttles (<see langword="null"/>: <see cref="LimitConcurrency"/> works).</summary>
    public virtual string? NoThrottling => null;

    /// <summary>Makes the platform refuse invocations beyond <paramref name="limit"/> at once (429, throttled).</summary>
    public virtual void LimitConcurrency(int limit) => throw new NotSupportedException(NoThrottling);

    /// <summary>Invocations the platform refused as throttled.</summary>
    public virtual int Throttled => 0;

    /// <summary>Records a deployment whose dispatch tables are <paramref name="tables"/>, as a deployment of that code would; <see langword="null"/>: the worker was not deployed by Neutral.</summary>
    public abstract Task DeployTablesAsync(IReadOnlyDictionary<string, string>? tables);

    /// <summary>What the failure of a job on a worker not deployed by Neutral (<see cref="DeployTablesAsync"/> of null) says.</summary>
    public abstract string MissingDeploymentMessage { get; }

    /// <summary>Restarts the store's server (<see cref="RigOptions.RestartableStore"/>) and waits until it answers again.</summary>
    public abstract Task RestartStoreAsync();

    /// <summary>Sends the platform's worker an event that is not an invocation; returns how the platform recorded it.</summary>
    public abstract Task<string> SendMalformedAsync();

    /// <summary>How <see cref="SendMalformedAsync"/>'s event must be recorded.</summary>
    public abstract string MalformedOutcome { get; }

    /// <summary>Why the platform records no init error for a worker without the application's tables (<see langword="null"/>: <see cref="InitError"/> says it).</summary>
    public virtual string? NoInitError => null;

    /// <summary>The platform's record of a worker that failed as it initialized (<see cref="RigOptions.BrokenWorker"/>), once there is one.</summary>
    public abstract string? InitError { get; }

    /// <summary>What <see cref="InitError"/> must say.</summary>
    public abstract string ExpectedInitError { get; }

    /// <summary>The dispatch tables of this process, as a deployment records them.</summary>
    public static Dictionary<string, string> Tables() => Providers.DeployedTables.Of(Neutral.Dispatch.RemoteDispatch.Functions);

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();
}
