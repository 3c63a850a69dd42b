using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Neutral.Codec;
using Neutral.Execution;
using Neutral.Providers;
using Neutral.Storage;
using Neutral.Wire;

namespace Neutral;

/// <summary>
/// The executor: runs <see cref="RemoteCall{TResult}"/>s where configuration says (the local machine by default),
/// one call, a map of thousands, or a map and a reduce. Dispose it to stop its workers.
/// </summary>
/// <example>
/// <code>
/// await using Cloud cloud = Cloud.Connect();
/// double[] prices = await cloud.MapAsync(Enumerable.Range(0, 1000), i => Remote.Pricing.Price(spec, i, 10_000));
/// </code>
/// </example>
public sealed partial class Cloud : IAsyncDisposable
{
    /// <summary>Neutral's internal prefix in every store: job data and shared values live under it (<see cref="StorageLayout.InternalPrefix"/>).</summary>
    public const string InternalPrefix = StorageLayout.InternalPrefix;

    private static readonly TimeSpan DisposeBound = TimeSpan.FromSeconds(10);
    private readonly CloudContext _context;

    /// <summary>What the tool reads (its doctor uses the store and the backend this client opened).</summary>
    internal CloudContext Context => _context;

    private readonly StoreConnection _store;
    private readonly ConcurrentDictionary<string, Task> _shared = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, JobRunner> _jobs = new();
    private readonly CancellationTokenSource _disposing = new();
    private Task _housekeeping = Task.CompletedTask;
    private readonly Lock _jobsLock = new();
    private TaskCompletionSource? _disposal;
    private int _disposed;
    private volatile bool _interrupted;

    private Cloud(CloudContext context, StoreConnection store)
    {
        _context = context;
        context.Disposing = _disposing.Token;
        _store = store;
    }

    /// <summary>Connects with the default configuration: <c>appsettings.json</c>, <c>neutral.json</c>, <c>NEUTRAL__*</c> variables.</summary>
    /// <exception cref="NeutralConfigurationException">
    /// A value is wrong, a key is not one Neutral knows, or a file is not valid JSON; the message names the key (or the
    /// file and line) and where the value came from.
    /// </exception>
    public static Cloud Connect() => Connect(NeutralConfiguration.Default());

    /// <summary>Connects with the <c>Neutral</c> section of <paramref name="configuration"/>.</summary>
    /// <exception cref="NeutralConfigurationException">
    /// A value is wrong or a key is not one Neutral knows; the message names the key, where the value came from (a
    /// file, an environment variable) and, for a misspelt key, the nearest known one.
    /// </exception>
    public static Cloud Connect(IConfiguration configuration) => Connect(NeutralConfiguration.Read(configuration));

    /// <summary>Connects with options set in code (starting from the defaults).</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong; the message names the key.</exception>
    public static Cloud Connect(Action<NeutralOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new NeutralOptions();
        configure(options);
        return Connect(options);
    }

    internal static Cloud Connect(NeutralOptions options)
    {
        try
        {
            return Open(options);
        }
        catch (NeutralConfigurationException e)
        {
            // A provider's factory knows the key and the value; the configuration knows where the value came from.
            ConfigurationOrigin.Name(e, options.ReadFrom);
            throw;
        }
    }

    private static Cloud Open(NeutralOptions options)
    {
        NeutralConfiguration.CheckAtConnect(options);
        ProviderRegistry providers = options.Providers;
        ILogger logger = options.LoggerFactory is NullLoggerFactory && Environment.GetEnvironmentVariable("NEUTRAL_TRACE") == "1"
            ? StandardErrorLogger.Instance
            : options.LoggerFactory.CreateLogger("Neutral");

        var computeFactory = providers.Compute(options.Compute) ?? throw Missing("Neutral:Compute", options.Compute, providers.ComputeNames);
        StoreConnection store = OpenJobStore(options);
        var named = new Dictionary<string, StoreConnection>(StringComparer.OrdinalIgnoreCase);
        IComputeBackend backend;
        try
        {
            foreach (var (name, kind) in options.Stores.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var factory = providers.Storage(kind) ?? throw Missing($"Neutral:Stores:{name}:Kind", kind, providers.StorageNames);
                StoreConnection other = factory(new ProviderContext(options, null));
                named[name] = other with { Location = other.Location with { Prefix = InternalPrefix } };
            }

            // Workers open every store of the job: the named stores' variables (credentials) go with the main store's.
            store = store with { WorkerEnvironment = WorkerEnvironmentOf([store, .. named.Values]) };
            backend = computeFactory(new ProviderContext(options, store));
            if (options.Job.InvokeFrom == "cloud" && (backend as ISelfInvokingComputeBackend)?.SelfInvokeRefusal is var refusal
                && (refusal is not null || backend is not ISelfInvokingComputeBackend))
            {
                _ = backend.DisposeAsync().AsTask();
                throw new NeutralConfigurationException("Neutral:Job:InvokeFrom", "cloud",
                    $"the {backend.Name} compute backend's workers cannot invoke their own function ({refusal ?? "it has no cloud to launch from: its workers run where the client does"}); use client.");
            }
        }
        catch
        {
            foreach (StoreConnection opened in named.Values.Prepend(store))
            {
                if (opened.Dispose is { } dispose)
                {
                    dispose().AsTask().Wait(TimeSpan.FromSeconds(5));
                }
            }

            throw;
        }

        // The store's own network set-up (the bucket created) runs in the background: Connect never waits on it.
        // A store with nothing to prepare (the local one) is used as it is: no wait on its operations' path.
        var (root, prepared) = Prepared(store);
        var stores = new Dictionary<string, (IObjectStore Root, StoreLocation Location)>(StringComparer.OrdinalIgnoreCase);
        var preparing = new List<Task> { prepared };
        foreach (var (name, other) in named)
        {
            var (otherRoot, otherPrepared) = Prepared(other);
            stores[name] = (otherRoot, other.Location);
            preparing.Add(otherPrepared);
        }

        var context = new CloudContext(options, root, store.Location, backend, logger, stores);
        var cloud = new Cloud(context, store) { _prepared = Task.WhenAll(preparing), _named = [.. named.Values] };
        cloud.StartHousekeeping();
        if (options.Job.CancelOnSignal)
        {
            ShutdownSignals.Process.Track(cloud);
        }

        return cloud;
    }

    /// <summary>
    /// Opens the store jobs keep their data in, as configured (<c>Storage</c>, else the compute's), without preparing
    /// it (no network I/O): what <c>Connect</c> does first, and what the <c>neutral</c> tool reads jobs from.
    /// </summary>
    /// <exception cref="NeutralConfigurationException">The store is not registered, or its settings are wrong.</exception>
    internal static StoreConnection OpenJobStore(NeutralOptions options)
    {
        ProviderRegistry providers = options.Providers;
        string storage = options.Storage ?? providers.DefaultStorageFor(options.Compute);
        var storageFactory = providers.Storage(storage) ?? throw Missing(options.Storage is null ? "Neutral:Compute" : "Neutral:Storage", storage, providers.StorageNames,
            options.Storage is null ? $"the '{options.Compute}' compute keeps its data in a '{storage}' store" : null);
        StoreConnection store = storageFactory(new ProviderContext(options, null));
        return store with { Location = store.Location with { Prefix = InternalPrefix } };
    }

    private Task _prepared = Task.CompletedTask;

    private StoreConnection[] _named = [];

    private static (IObjectStore Root, Task Prepared) Prepared(StoreConnection store)
    {
        Task prepared = store.Prepare is { } prepare ? Task.Run(() => prepare(CancellationToken.None)) : Task.CompletedTask;
        return (store.Prepare is null ? store.Store : new PreparedObjectStore(store.Store, prepared), prepared);
    }

    private static Dictionary<string, string>? WorkerEnvironmentOf(IEnumerable<StoreConnection> stores)
    {
        Dictionary<string, string>? merged = null;
        foreach (StoreConnection store in stores)
        {
            foreach (var (name, value) in store.WorkerEnvironment ?? new Dictionary<string, string>())
            {
                (merged ??= new Dictionary<string, string>(StringComparer.Ordinal))[name] = value;
            }
        }

        return merged;
    }

    /// <summary>Connects with the default configuration, and waits until the store is ready (its bucket or container created).</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong, or the store cannot be used; the message names the key.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "One overload per Connect overload, each with a trailing token: their first parameters differ, so calls are never ambiguous.")]
    public static Task<Cloud> ConnectAsync(CancellationToken cancellationToken = default) => ReadyAsync(Connect(), cancellationToken);

    /// <summary>Connects with the <c>Neutral</c> section of <paramref name="configuration"/>, and waits until the store is ready.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong, or the store cannot be used; the message names the key.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "One overload per Connect overload, each with a trailing token: their first parameters differ, so calls are never ambiguous.")]
    public static Task<Cloud> ConnectAsync(IConfiguration configuration, CancellationToken cancellationToken = default) =>
        ReadyAsync(Connect(configuration), cancellationToken);

    /// <summary>Connects with options set in code, and waits until the store is ready.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong, or the store cannot be used; the message names the key.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "One overload per Connect overload, each with a trailing token: their first parameters differ, so calls are never ambiguous.")]
    public static Task<Cloud> ConnectAsync(Action<NeutralOptions> configure, CancellationToken cancellationToken = default) =>
        ReadyAsync(Connect(configure), cancellationToken);

    private static async Task<Cloud> ReadyAsync(Cloud cloud, CancellationToken cancellationToken)
    {
        try
        {
            await cloud._prepared.WaitAsync(cancellationToken).ConfigureAwait(false);
            return cloud;
        }
        catch (Exception e)
        {
            await cloud.DisposeAsync().ConfigureAwait(false);
            if (e is NeutralConfigurationException configuration)
            {
                ConfigurationOrigin.Name(configuration, cloud.Options.ReadFrom);
            }

            throw;
        }
    }

    private static NeutralConfigurationException Missing(string key, string name, IReadOnlyList<string> available, string? why = null)
    {
        string have = string.Join(", ", available);
        string because = why is null ? string.Empty : why + "; ";
        return ProviderRegistry.PackageOf(name) is { } package
            ? new NeutralConfigurationException(key, name,
                $"{because}the '{name}' provider is not referenced by this application. Add the NuGet package {package} (it registers itself), " +
                $"or register it with services.AddNeutral(configuration).{package["Neutral.Providers.".Length..].Insert(0, "Add")}(). Available here: {have}.")
            : new NeutralConfigurationException(key, name, $"{because}no provider of that name is registered. Available here: {have}.");
    }

    /// <summary>Registers this client and sweeps data that dead clients left, in the background.</summary>
    private void StartHousekeeping()
    {
        _housekeeping = Task.Run(async () =>
        {
            try
            {
                await _context.Cleanup.RegisterClientAsync(CancellationToken.None).ConfigureAwait(false);
                if (_context.Options.Job.SweepAfterHours > 0)
                {
                    int swept = await _context.Cleanup.SweepAsync(TimeSpan.FromHours(_context.Options.Job.SweepAfterHours), _disposing.Token).ConfigureAwait(false);
                    if (swept > 0)
                    {
                        Log.Swept(_context.Logger, swept);
                    }
                }

                // Failed calls kept for replay whose time is up (Job:KeepFailedHours), whoever kept them.
                await KeptFailures.SweepAsync(_context.Jobs, _context.Time.GetUtcNow(), _disposing.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.SweepFailed(_context.Logger, e, e.Message);
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>The user key space of the job store: the same one <see cref="RemoteContext.Storage"/> sees.</summary>
    public IObjectStore Storage => _context.User;

    /// <summary>
    /// The user key space of the store named <paramref name="name"/> in <c>Neutral:Stores</c>: the same one
    /// <see cref="RemoteContext.StorageOf"/> sees in calls.
    /// </summary>
    /// <exception cref="ArgumentException">No store of that name is configured.</exception>
    public IObjectStore StorageOf(string name) => _context.Store(name).User;

    /// <summary>The options in force.</summary>
    public NeutralOptions Options => _context.Options;

    /// <summary>Runs one call and returns its result.</summary>
    /// <exception cref="RemoteException">The call failed.</exception>
    public async Task<T> CallAsync<T>(RemoteCall<T> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        RemoteJob<T> job = Submit([call]);
        try
        {
            return await job.GetResultsAsync(cancellationToken).ConfigureAwait(false) is [var result] ? result : throw new InvalidOperationException();
        }
        catch (RemoteJobException e)
        {
            throw e.Failures[0];
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await job.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs many calls in parallel and returns their results in order.</summary>
    /// <exception cref="RemoteJobException">Some calls failed: every failure, and the partial results.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "Both overloads are the pinned public API; their arities differ, so calls are never ambiguous.")]
    public async Task<T[]> MapAsync<T>(IEnumerable<RemoteCall<T>> calls, CancellationToken cancellationToken = default)
    {
        RemoteJob<T> job = Submit(calls);
        try
        {
            return await job.GetResultsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await job.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Makes one call per element of <paramref name="source"/> and returns the results in order.</summary>
    /// <exception cref="RemoteJobException">Some calls failed: every failure, and the partial results.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "Both overloads are the pinned public API; their arities differ, so calls are never ambiguous.")]
    public Task<T[]> MapAsync<TSource, T>(IEnumerable<TSource> source, Func<TSource, RemoteCall<T>> selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(selector);
        return MapAsync(source.Select(selector), cancellationToken);
    }

    /// <summary>Starts the calls and returns at once with the job; await its futures or results later.</summary>
    public RemoteJob<T> Submit<T>(IEnumerable<RemoteCall<T>> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0 && !_interrupted, this);
        RemoteCall<T>[] array = calls.ToArray();
        for (int i = 0; i < array.Length; i++)
        {
            if (array[i] is null)
            {
                throw new ArgumentException($"Call {i} is null.", nameof(calls));
            }
        }

        var (runner, results) = JobRunner.Create(_context, array);
        var job = new RemoteJob<T>(runner, results);
        lock (_jobsLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                // The process is ending on a signal (else the check above threw): a job that never starts and whose
                // results never come, so that the application's code waits for the exit rather than crash on an error.
                ObjectDisposedException.ThrowIf(!_interrupted, this);
                runner.Interrupt();
                return job;
            }

            _jobs.TryAdd(runner.Finished, runner);
        }

        runner.Start();
        _ = runner.Finished.ContinueWith(t => _jobs.TryRemove(t, out _), TaskScheduler.Default);
        return job;
    }

    /// <summary>
    /// Maps, then runs one reduce call over all the results (the paper's map + monolithic reduce).
    /// </summary>
    /// <exception cref="RemoteJobException">Some map calls failed.</exception>
    /// <exception cref="RemoteException">The reduce call failed.</exception>
    public async Task<TResult> MapReduceAsync<T, TResult>(IEnumerable<RemoteCall<T>> calls, Func<T[], RemoteCall<TResult>> reduce, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reduce);
        T[] parts = await MapAsync(calls, cancellationToken).ConfigureAwait(false);
        return await CallAsync(reduce(parts), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a value once and returns a reference to pass to calls instead of the value: each worker process fetches
    /// it once and caches it. <typeparamref name="T"/> must be the type of some <c>Shared&lt;T&gt;</c> parameter of a
    /// <c>[Remote]</c> method, whose generated codec encodes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">No generated codec for <typeparamref name="T"/>.</exception>
    public async Task<Shared<T>> ShareAsync<T>(T value, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Ending on a signal: nothing is written, and the caller waits for the exit.
            ObjectDisposedException.ThrowIf(!_interrupted, this);
            await new TaskCompletionSource().Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        CodecWrite<T> write = CodecRegistry<T>.Write ?? throw new InvalidOperationException(
            $"No generated codec for {typeof(T)}: Cloud.ShareAsync<T> works for the T of a Shared<T> parameter of some [Remote] method. Add such a parameter, or pass the value as an ordinary argument.");
        using var buffer = new PooledBufferWriter();
        var writer = new CodecWriter(buffer);
        write(ref writer, value);
        writer.Flush();
        // Under this client's own folder: another client sharing the same value keeps its own copy, so disposing
        // one never deletes what the other still uses.
        string key = StorageLayout.ClientShared(_context.ClientId, Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan)));
        byte[] bytes = buffer.WrittenSpan.ToArray();
        Task put = _shared.GetOrAdd(key, k => _context.Jobs.PutAsync(k, bytes, CancellationToken.None));
        try
        {
            await put.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (put.IsFaulted || put.IsCanceled)
        {
            // Recorded only once written: a failed write is tried again by the next ShareAsync.
            _shared.TryRemove(new KeyValuePair<string, Task>(key, put));
            throw;
        }

        return new Shared<T>(key, value);
    }

    /// <summary>Jobs of this cloud that have not finished (cleanup included).</summary>
    internal int RunningJobs => _jobs.Count(j => !j.Key.IsCompleted);

    /// <summary>
    /// Stops the workers; deletes shared values (unless <c>Job:KeepData</c>) once running jobs end. A second call waits
    /// for the first to finish.
    /// </summary>
    public ValueTask DisposeAsync() => DisposeAsync(interrupted: false);

    /// <summary>The disposal; <paramref name="interrupted"/> when the process ends on a signal (<see cref="ShutdownSignals"/>).</summary>
    internal ValueTask DisposeAsync(bool interrupted)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _disposal, mine, null) is { } first)
        {
            return new ValueTask(first.Task);
        }

        lock (_jobsLock)
        {
            // After this, Submit adds no job the loop below would miss.
            _interrupted = interrupted;
            Volatile.Write(ref _disposed, 1);
        }

        ShutdownSignals.Process.Forget(this);
        return new ValueTask(RunAsync());

        async Task RunAsync()
        {
            try
            {
                await DisposeCoreAsync(interrupted).ConfigureAwait(false);
                mine.SetResult();
            }
            catch (Exception e)
            {
                mine.SetException(e);
                throw;
            }
        }
    }

    private async Task DisposeCoreAsync(bool interrupted)
    {
        // Jobs still running when the cloud goes away are cancelled, then given a bounded moment to clean up.
        await _disposing.CancelAsync().ConfigureAwait(false);
        foreach (var (finished, runner) in _jobs)
        {
            if (!finished.IsCompleted)
            {
                _ = interrupted ? runner.InterruptAsync() : runner.CancelAsync();
            }
        }

        DateTimeOffset until = DateTimeOffset.UtcNow + DisposeBound;
        try
        {
            await Task.WhenAll(_jobs.Keys).WaitAsync(DisposeBound).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.DisposeLeftJobs(_context.Logger, _jobs.Count(j => !j.Key.IsCompleted), DisposeBound.TotalSeconds);
        }

        await _context.Backend.DisposeAsync().ConfigureAwait(false);
        if (!_context.Options.Job.KeepData)
        {
            try
            {
                TimeSpan left = until - DateTimeOffset.UtcNow;
                using var bound = new CancellationTokenSource(left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
                // Second passes over finished jobs (for attempts that wrote after the first) run now, not never.
                await _context.Cleanup.FlushLatePassesAsync(left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                await _context.Jobs.DeletePrefixAsync(StorageLayout.ClientShared(_context.ClientId), bound.Token).ConfigureAwait(false);
                await _context.Cleanup.DeleteShufflesAsync(_context.ClientId, bound.Token).ConfigureAwait(false);
                await _context.Jobs.DeleteAsync(StorageLayout.Client(_context.ClientId), bound.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.DisposeLeftShared(_context.Logger, e, StorageLayout.ClientShared(_context.ClientId), e.Message);
            }
        }

        try
        {
            await _housekeeping.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Logged where it ran.
        }

        foreach (StoreConnection store in _named.Prepend(_store))
        {
            if (store.Dispose is { } dispose)
            {
                await dispose().ConfigureAwait(false);
            }
        }

        _disposing.Dispose();
    }
}
