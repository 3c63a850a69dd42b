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
using Neutral.Codec;
using Neutral.Execution;
using Neutral.Local;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers.Storage;

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
public sealed class Cloud : IAsyncDisposable
{
    /// <summary>Neutral's internal prefix in every store: job data and shared values live under it.</summary>
    public const string InternalPrefix = "_neutral/";

    private readonly CloudContext _context;
    private readonly ConcurrentDictionary<string, byte> _shared = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, Func<Task>> _jobs = new();
    private int _disposed;

    private Cloud(CloudContext context) => _context = context;

    /// <summary>Connects with the default configuration: <c>appsettings.json</c>, <c>neutral.json</c>, <c>NEUTRAL__*</c> variables.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong; the message names the key.</exception>
    public static Cloud Connect() => Connect(NeutralConfiguration.Default());

    /// <summary>Connects with the <c>Neutral</c> section of <paramref name="configuration"/>.</summary>
    /// <exception cref="NeutralConfigurationException">A value is wrong; the message names the key.</exception>
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
        NeutralConfiguration.Validate(options);
        if (options.Compute != "local")
        {
            throw new NeutralConfigurationException("Neutral:Compute", options.Compute,
                $"the '{options.Compute}' provider is not installed in this build; only 'local' is available so far.");
        }

        string storage = options.Storage ?? "local";
        if (storage != "local")
        {
            throw new NeutralConfigurationException("Neutral:Storage", storage,
                "the local compute provider reads the local (file-system) store only; leave Storage out or set it to local.");
        }

        FileSystemObjectStore root;
        try
        {
            root = new FileSystemObjectStore(options.Local.Root);
            root.EnsureWritable();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new NeutralConfigurationException("Neutral:Local:Root", options.Local.Root, $"the folder cannot be created or written ({e.Message}).", e);
        }

        var location = new StoreLocation("local", root.Root, InternalPrefix);
        var backend = new LocalComputeBackend(options.Local, location);

        // Workers start now: a misconfiguration fails here rather than at the first call, and the pool is warm (or
        // warming) by the time the first calls arrive.
        backend.EnsureStarted();

        return new Cloud(new CloudContext(options, root, location, backend));
    }

    /// <summary>The user key space of the job store: the same one <see cref="RemoteContext.Storage"/> sees.</summary>
    public IObjectStore Storage => _context.User;

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
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        RemoteCall<T>[] array = calls.ToArray();
        for (int i = 0; i < array.Length; i++)
        {
            if (array[i] is null)
            {
                throw new ArgumentException($"Call {i} is null.", nameof(calls));
            }
        }

        var runner = new JobRunner<T>(_context, array);
        runner.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _jobs.TryAdd(runner.Finished, runner.CancelAsync);
        _ = runner.Finished.ContinueWith(t => _jobs.TryRemove(t, out _), TaskScheduler.Default);
        return new RemoteJob<T>(runner);
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
        CodecWrite<T> write = CodecRegistry<T>.Write ?? throw new InvalidOperationException(
            $"No generated codec for {typeof(T)}: Cloud.ShareAsync<T> works for the T of a Shared<T> parameter of some [Remote] method. Add such a parameter, or pass the value as an ordinary argument.");
        using var buffer = new PooledBufferWriter();
        var writer = new CodecWriter(buffer);
        write(ref writer, value);
        writer.Flush();
        string key = "shared/" + Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
        if (_shared.TryAdd(key, 0))
        {
            await _context.Jobs.PutAsync(key, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }

        return new Shared<T>(key, value);
    }

    /// <summary>Stops the workers; deletes shared values (unless <c>Job:KeepData</c>) once running jobs end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Jobs still running when the cloud goes away are cancelled, then given a moment to clean up.
        foreach (var (finished, cancel) in _jobs)
        {
            if (!finished.IsCompleted)
            {
                _ = cancel();
            }
        }

        try
        {
            await Task.WhenAll(_jobs.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Their workers are stopped below.
        }

        await _context.Backend.DisposeAsync().ConfigureAwait(false);
        if (!_context.Options.Job.KeepData)
        {
            foreach (string key in _shared.Keys)
            {
                await _context.Jobs.DeleteAsync(key).ConfigureAwait(false);
            }
        }
    }
}
