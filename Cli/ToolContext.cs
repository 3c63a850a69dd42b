using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.IO;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Neutral.Providers;
using Neutral.Storage;
using Spectre.Console;

namespace Neutral.Cli;

/// <summary>Bad input the tool explains in one line (exit code 2): an unknown job, a missing store, a file in the way.</summary>
internal sealed class ToolException(string message) : Exception(message);

/// <summary>What every command shares: the app's folder, its configuration as the app reads it, the store, the output.</summary>
internal sealed class ToolContext(string directory, TextWriter output, TextWriter error)
{
    private IConfiguration? _configuration;
    private NeutralOptions? _options;

    public string Directory { get; } = directory;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>The clock the jobs the tool runs are timed on (tests give a fake one); null: the system's.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>The configuration as <c>Cloud.Connect()</c> reads it in this folder.</summary>
    public IConfiguration Configuration => _configuration ??= NeutralConfiguration.Default(Directory);

    /// <summary>The options it gives, checked as <c>Connect</c> checks them (provider sections included).</summary>
    public NeutralOptions Options
    {
        get
        {
            if (_options is null)
            {
                try
                {
                    NeutralOptions options = NeutralConfiguration.Read(Configuration);
                    options.ReadFrom = Configuration;
                    if (Time is not null)
                    {
                        options.TimeProvider = Time;
                    }

                    NeutralConfiguration.CheckAtConnect(options);
                    _options = options;
                }
                catch (NeutralConfigurationException e)
                {
                    ConfigurationOrigin.Name(e, Configuration);
                    throw;
                }
            }

            return _options;
        }
    }

    /// <summary>
    /// The job's cost so far at the configured compute's list prices (<c>IPricedComputeBackend</c>), from what storage
    /// holds: the attempts started, the worker time of the calls with a status, their storage requests.
    /// </summary>
    public async Task<string> CostLineAsync(OpenStore store, JobView view, CancellationToken cancellationToken)
    {
        NeutralOptions options = Options;
        long milliseconds = view.Calls.Where(c => c.Status is not null)
            .Sum(c => (long)Math.Ceiling(Math.Max(0, (c.Status!.WorkerEnd - c.Status.WorkerStart).TotalMilliseconds)));
        var usage = new JobUsage(view.Calls.Count, view.Calls.Sum(c => c.Attempts), milliseconds, view.Calls.Count(c => c.Status is not null));
        string used = string.Create(CultureInfo.InvariantCulture, $"{usage.Invocations} attempts started, {milliseconds / 1000.0:0.0} s of worker time");
        if (options.Compute == "local")
        {
            return $"Cost: none on local compute ({used}).";
        }

        IComputeBackend? backend = null;
        try
        {
            backend = options.Providers.Compute(options.Compute)?.Invoke(new ProviderContext(options, store.Connection));
            if (backend is not IPricedComputeBackend priced)
            {
                return $"Cost: {options.Compute} compute gives no prices ({used}).";
            }

            if (backend is IDeployedComputeBackend deployed)
            {
                // The deployed worker's size (a function's memory) prices its time: read as a client reads it before a job.
                try
                {
                    using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    bounded.CancelAfter(TimeSpan.FromSeconds(10));
                    await deployed.VerifyDeploymentAsync([], bounded.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    used += "; the deployed worker's size unknown, its default assumed";
                }
            }

            return string.Create(CultureInfo.InvariantCulture, $"Cost so far: ${priced.EstimateCost(usage):0.000000} at {options.Compute}'s list prices ({used}, the storage requests of {usage.CompletedCalls} calls; an estimate, not a bill).");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"Cost: not estimated ({e.Message.Split('\n', 2)[0]}; {used}).";
        }
        finally
        {
            if (backend is IAsyncDisposable asynchronous)
            {
                await asynchronous.DisposeAsync();
            }
            else
            {
                (backend as IDisposable)?.Dispose();
            }
        }
    }

    /// <summary>A console that writes tables to <see cref="Output"/>: plain text when it is not a terminal.</summary>
    public IAnsiConsole Console()
    {
        bool terminal = ReferenceEquals(Output, System.Console.Out) && !System.Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 200;
        }

        return console;
    }

    /// <summary>
    /// Opens the job store the app uses, read-only in spirit (nothing is created): a local root that does not exist is
    /// an error naming it rather than a new empty store.
    /// </summary>
    public async Task<OpenStore> OpenStoreAsync()
    {
        NeutralOptions options = Options;
        string storage = options.Storage ?? options.Compute;
        if (storage == "local" || (options.Storage is null && options.Compute == "local"))
        {
            string root = Path.GetFullPath(Path.Combine(Directory, options.Local.Root));
            if (!System.IO.Directory.Exists(root))
            {
                throw new ToolException($"there is no local store at {root} (Neutral:Local:Root, default .neutral): run the tool from the folder your app runs in, or set the key.");
            }

            // Opened as it is: no write probe, no folder created or removed (the provider's factory does both, for a
            // client that is about to write; a tool that reads must not race a running app's folders).
            string? memory = options.Local.JobData == "memory" && Workers.Storage.FileSystemObjectStore.DefaultControlRoot(root) is { } m && System.IO.Directory.Exists(m) ? m : null;
            var local = new Workers.Storage.FileSystemObjectStore(root, memory);
            return new OpenStore(new StoreConnection(local, new Wire.StoreLocation("local", root, Cloud.InternalPrefix)));
        }

        StoreConnection connection = Cloud.OpenJobStore(options);
        await Task.CompletedTask;
        return new OpenStore(connection);
    }
}

/// <summary>The job store, opened: its internal key space (<c>_neutral/</c>), its whole key space, and its disposal.</summary>
internal sealed class OpenStore(StoreConnection connection) : IAsyncDisposable
{
    public IObjectStore Root => connection.Store;

    /// <summary>Neutral's own key space: <c>jobs/</c>, <c>shared/</c>, <c>clients/</c>.</summary>
    public PrefixedObjectStore Internal { get; } = new(connection.Store, Cloud.InternalPrefix);

    /// <summary>The user's key space: what <c>Cloud.Storage</c> sees (Neutral's own prefix refused).</summary>
    public UserObjectStore User { get; } = new(connection.Store, Cloud.InternalPrefix);

    public string Location => connection.Location.Kind + ":" + connection.Location.Bucket;

    /// <summary>The store as the provider's factory opened it.</summary>
    public StoreConnection Connection => connection;

    /// <summary>Where a worker (or a replay) finds this store.</summary>
    public Wire.StoreLocation WorkerLocation => connection.Location;

    /// <summary>The variables a worker process needs to open it (its credentials), if any.</summary>
    public System.Collections.Generic.IReadOnlyDictionary<string, string>? WorkerEnvironment => connection.WorkerEnvironment;

    public async ValueTask DisposeAsync()
    {
        if (connection.Dispose is { } dispose)
        {
            await dispose();
        }
    }
}
