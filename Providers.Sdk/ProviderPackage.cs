using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers;

namespace Neutral.Providers;

/// <summary>
/// A provider package's plug-in declared once: its configuration sections, its stores and computes (each compute
/// with the store it keeps its data in by default), and its worker side (the store kinds workers open, the runtimes
/// <c>NEUTRAL_WORKER</c> names). The package's registration class keeps one and forwards to it:
/// <code>
/// public static class AcmeProvider
/// {
///     private static readonly ProviderPackage s_package = new ProviderPackage("Acme.Providers")
///         .Section("Acme", "Endpoint", "Bucket")
///         .Storage("acme", OpenStore, workerOpen: OpenForWorker)
///         .Compute("acme", OpenCompute, defaultStorage: "acme");
///
///     public static void Register() => AddTo(ProviderRegistry.Default);       // the generator calls this
///     public static ProviderRegistry AddTo(ProviderRegistry registry) => s_package.AddTo(registry);
///
///     [ModuleInitializer]
///     internal static void RegisterWorkerSide() => s_package.RegisterWorkerSide();   // a worker loading the assembly
/// }
/// </code>
/// </summary>
public sealed class ProviderPackage
{
    private readonly List<(string Section, string[] Keys)> _sections = [];
    private readonly List<(string Name, Func<ProviderContext, StoreConnection> Open)> _storage = [];
    private readonly List<(string Name, Func<ProviderContext, IComputeBackend> Open, string DefaultStorage)> _compute = [];
    private readonly List<(string Kind, Func<StoreLocation, IObjectStore> Open)> _workerStores = [];
    private readonly List<(string Kind, Func<IConfiguration, IReadOnlyDictionary<string, string>> Variables)> _deployedVariables = [];
    private readonly List<(string Name, Func<CancellationToken, Task> Serve)> _runtimes = [];
    private int _workerSide;

    /// <summary>Declares the package <paramref name="packageId"/> (its NuGet id, for messages).</summary>
    public ProviderPackage(string packageId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packageId);
        PackageId = packageId;
    }

    /// <summary>The package's NuGet id.</summary>
    public string PackageId { get; }

    /// <summary>Declares the keys of the section <c>Neutral:{section}</c> (see <see cref="ProviderRegistry.AddSection"/>).</summary>
    public ProviderPackage Section(string section, params string[] keys)
    {
        _sections.Add((section, keys));
        return this;
    }

    /// <summary>
    /// Declares the store <paramref name="name"/>: <paramref name="open"/> runs at <c>Cloud.Connect</c>;
    /// <paramref name="workerOpen"/>, when given, opens a location of that kind in a worker.
    /// </summary>
    public ProviderPackage Storage(string name, Func<ProviderContext, StoreConnection> open, Func<StoreLocation, IObjectStore>? workerOpen = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        _storage.Add((name, open));
        if (workerOpen is not null)
        {
            _workerStores.Add((name, workerOpen));
        }

        return this;
    }

    /// <summary>
    /// Declares what a deployed worker needs in its environment to open a store of kind <paramref name="kind"/>, read
    /// from the <c>Neutral</c> section (for example a password): self-deployments bind it to the function they deploy
    /// when the job names such a store (<see cref="ProviderSettings.WorkerEnvironment"/>). Never the envelope.
    /// </summary>
    public ProviderPackage DeployedVariables(string kind, Func<IConfiguration, IReadOnlyDictionary<string, string>> variables)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(variables);
        _deployedVariables.Add((kind, variables));
        return this;
    }

    /// <summary>Declares the compute <paramref name="name"/>, which keeps its data in <paramref name="defaultStorage"/> when <c>Neutral:Storage</c> is left out.</summary>
    public ProviderPackage Compute(string name, Func<ProviderContext, IComputeBackend> open, string defaultStorage)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultStorage);
        _compute.Add((name, open, defaultStorage));
        return this;
    }

    /// <summary>Declares a worker runtime: a process started with <c>NEUTRAL_WORKER=</c><paramref name="name"/> runs <paramref name="serve"/>.</summary>
    public ProviderPackage WorkerRuntime(string name, Func<CancellationToken, Task> serve)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(serve);
        _runtimes.Add((name, serve));
        return this;
    }

    /// <summary>
    /// Declares the self-deployment runtime: a published application started with <c>NEUTRAL_WORKER=</c><paramref name="name"/>
    /// deploys itself with <paramref name="deploy"/> and exits, as <see cref="SelfDeploymentRunner.RunAsync"/> says.
    /// </summary>
    /// <param name="name">The runtime's name (<c>{provider}-deploy</c>).</param>
    /// <param name="what">What is deployed, for the failure line ("function").</param>
    /// <param name="deploy">Deploys with the configuration; returns the summary line.</param>
    /// <param name="expected">The provider's own expected failures (its SDK's service errors), or null.</param>
    public ProviderPackage SelfDeployment(string name, string what, Func<IConfiguration, CancellationToken, Task<string>> deploy, Func<Exception, bool>? expected = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);
        ArgumentNullException.ThrowIfNull(deploy);
        return WorkerRuntime(name, cancellationToken => SelfDeploymentRunner.RunAsync(what, deploy, expected, cancellationToken));
    }

    /// <summary>Registers the worker side (store kinds, runtimes) once per process; call it from the package's module initializer.</summary>
    public void RegisterWorkerSide()
    {
        if (Interlocked.Exchange(ref _workerSide, 1) == 1)
        {
            return;
        }

        foreach (var (kind, open) in _workerStores)
        {
            if (!ObjectStores.IsRegistered(kind))
            {
                ObjectStores.Register(kind, open);
            }
        }

        foreach (var (name, serve) in _runtimes)
        {
            WorkerRuntimes.Register(name, serve);
        }

        foreach (var (kind, variables) in _deployedVariables)
        {
            ProviderSettings.DeployedStoreVariables[kind] = variables;
        }
    }

    /// <summary>Registers the package into <paramref name="registry"/> (and its worker side into this process).</summary>
    public ProviderRegistry AddTo(ProviderRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        RegisterWorkerSide();
        foreach (var (section, keys) in _sections)
        {
            registry.AddSection(section, keys);
        }

        // Every required key a factory finds missing is named in one error, not the first alone.
        foreach (var (name, open) in _storage)
        {
            registry.AddStorage(name, context => ProviderSettings.CollectingMissing(() => open(context), store => store.Dispose?.Invoke().AsTask().Wait(TimeSpan.FromSeconds(5))));
        }

        foreach (var (name, open, defaultStorage) in _compute)
        {
            registry.AddCompute(name, context => ProviderSettings.CollectingMissing(() => open(context), backend => backend.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5))), defaultStorage);
        }

        return registry;
    }
}
