using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Storage;
using Neutral.Wire;
using Neutral.Workers.Storage;

namespace Neutral.Workers.Local;

/// <summary>
/// The worker side of the local provider: reads envelopes from the client over a pipe, runs them one at a time
/// through the <see cref="CallRunner"/> (as a Lambda container runs one call at a time), and answers each with a
/// <see cref="LocalFrameType.Done"/> hint. Stays warm across calls.
/// </summary>
public static class LocalWorker
{
    static LocalWorker() => RegisterLocalStore();

    /// <summary>Registers the <c>local</c> (file-system) store kind with <see cref="ObjectStores"/> (idempotent).</summary>
    public static void RegisterLocalStore()
    {
        if (!ObjectStores.IsRegistered(LocalStoreKind))
        {
            ObjectStores.Register(LocalStoreKind, static location => new FileSystemObjectStore(location.Bucket, ControlRootOf(location.Bucket)));
        }
    }

    /// <summary>
    /// Where the client keeps jobs' control objects: <c>memory</c> (under <c>/dev/shm</c>, see
    /// <see cref="FileSystemObjectStore.DefaultControlRoot"/>) or <c>disk</c> (in the root). The client sets it for its
    /// workers, so both sides always agree.
    /// </summary>
    internal const string JobDataVariable = "NEUTRAL_LOCAL_JOB_DATA";

    /// <summary>The clients' choices in this process, by full root path (in-process workers open the store here).</summary>
    private static readonly ConcurrentDictionary<string, string> s_clientJobData = new(StringComparer.Ordinal);

    /// <summary>Records a client's choice for its root (<c>memory</c> or <c>disk</c>), for stores opened in this process.</summary>
    internal static void SetJobData(string root, string placement) => s_clientJobData[Path.GetFullPath(root)] = placement;

    /// <summary>
    /// The control root of a local store: the choice of a client in this process, else the one the client that started
    /// this worker passed down, else none (a store opened outside any client keeps everything in its root).
    /// </summary>
    internal static string? ControlRootOf(string root)
    {
        string placement = s_clientJobData.TryGetValue(Path.GetFullPath(root), out string? chosen)
            ? chosen
            : Environment.GetEnvironmentVariable(JobDataVariable) ?? JobDataDisk;
        return placement == JobDataMemory ? FileSystemObjectStore.DefaultControlRoot(root) : null;
    }

    /// <summary>Jobs' control objects in memory (the default where <c>/dev/shm</c> exists).</summary>
    internal const string JobDataMemory = "memory";

    /// <summary>Every object in the store's root folder.</summary>
    internal const string JobDataDisk = "disk";

    /// <summary>The store kind of the file-system store: its <see cref="StoreLocation.Bucket"/> is the root folder.</summary>
    public const string LocalStoreKind = "local";

    /// <summary>
    /// Opens the store an envelope names through <see cref="ObjectStores"/>: the <c>local</c> kind always, other kinds
    /// when their provider registered them in this worker (a provider package the application references).
    /// </summary>
    /// <exception cref="NotSupportedException">No provider for the store's kind is registered in this worker.</exception>
    public static IObjectStore OpenStore(StoreLocation location) => ObjectStores.Open(location);

    /// <summary>
    /// Called from the module initializer the source generator writes into every executable that references
    /// <c>Neutral.Workers</c>. In a NativeAOT process started as a worker (the variable <c>NEUTRAL_WORKER</c> names the
    /// runtime: <c>local</c>, or one a provider registered with <see cref="WorkerRuntimes"/>), it serves calls and ends
    /// the process before <c>Main</c>; in any other process it returns at once. JIT workers are taken over earlier, by
    /// the startup hook.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void RunIfWorkerProcess()
    {
        ExecutableServesWorkers = true;
        if (Environment.GetEnvironmentVariable(WorkerStart.Variable) is null)
        {
            return;
        }

        if (RuntimeFeature.IsDynamicCodeSupported)
        {
            // Under the JIT the startup hook serves and clears the variable before this runs; reaching here means the
            // runtime ran no startup hook. Running Main instead would start a client inside a worker.
            Console.Error.WriteLine(NoStartupHook(Environment.GetEnvironmentVariable(WorkerStart.Variable)!, Environment.GetEnvironmentVariable(WorkerStart.StartupHooksVariable)));
            Environment.Exit(WorkerStart.StartFailedExitCode);
        }

        if (WorkerStart.Take(out string mode, out _))
        {
            WorkerStart.ServeAndExit(mode);
        }
    }

    /// <summary>
    /// What a JIT process started as a worker says when no startup hook took it over: set the hook when it is not set
    /// (running a deployment by hand, say), else the runtime refused it (StartupHookSupport off, as in trimmed builds).
    /// </summary>
    internal static string NoStartupHook(string mode, string? hooks)
    {
        bool hooked = hooks is not null && hooks.Split(System.IO.Path.PathSeparator).Contains(WorkerStart.HookAssembly, StringComparer.Ordinal);
        return hooked
            ? $"Neutral worker: this process was started as a worker (NEUTRAL_WORKER={mode}) with {WorkerStart.StartupHooksVariable}={hooks}, but the runtime ran no startup hook: "
                + "StartupHookSupport is off, as in trimmed builds. Enable StartupHookSupport, publish with NativeAOT, or (local workers) set Neutral:Local:Isolation to inproc."
            : $"Neutral worker: this process was started as a worker (NEUTRAL_WORKER={mode}) under the JIT, which needs Neutral's startup hook to serve: "
                + $"set {WorkerStart.StartupHooksVariable}={WorkerStart.HookAssembly} as well (for example: NEUTRAL_WORKER={mode} {WorkerStart.StartupHooksVariable}={WorkerStart.HookAssembly} ./YourApp), or publish with NativeAOT.";
    }

    /// <summary>Whether this executable's generated module initializer ran (it can serve as its own worker).</summary>
    internal static bool ExecutableServesWorkers { get; private set; }

    /// <summary>The exit code of a worker process that ends because its client is gone.</summary>
    internal const int ClientGoneExitCode = 3;

    /// <summary>
    /// Serves the local provider over this process's standard input and output, sending the user's console output to
    /// each call's log. The entry point of a custom worker executable (<c>Local:WorkerCommand</c>), for example a
    /// NativeAOT build: <c>static Task Main() => LocalWorker.ServeStandardStreamsAsync();</c>.
    /// </summary>
    /// <remarks>
    /// The process is the client's: when its standard input ends without a shutdown frame (the client exited or was
    /// killed) or, on Linux and macOS, its parent process dies, it exits at once with code 3, even in the middle of a
    /// call that ignores cancellation. Nobody is left to read that call's result, and the client's next run retries
    /// what it needs.
    /// </remarks>
    public static async Task ServeStandardStreamsAsync(CancellationToken cancellationToken = default)
    {
        // The pipes carry the protocol; the user's console output goes to the running call's log.
        // Buffered: a frame's header and payload (and often the next frame) arrive in one read.
        Stream input = new BufferedStream(Console.OpenStandardInput(), 64 * 1024);
        Stream output = Console.OpenStandardOutput();
        TextWriter error = Console.Error;
        Console.SetOut(new CallLogRouter(TextWriter.Null));
        // Standard input carries the protocol: a call reading its console gets end of input, not the client's frames.
        Console.SetIn(TextReader.Null);
        Console.SetError(new CallLogRouter(error));
        using ParentWatch? parent = ParentWatch.Start(ExitBecauseTheClientIsGone);
        var runner = new CallRunner(OpenStore, Environment.MachineName + "/" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            // Each call's output also goes, line by line and prefixed with its call index, to this process's standard
            // error, which the client forwards to its own (Local:ForwardOutput, on by default).
            Echo = Environment.GetEnvironmentVariable(WorkerStart.ForwardOutputVariable) == "0" ? null : error,
        };
        await RunAsync(input, output, runner, ExitBecauseTheClientIsGone, cancellationToken).ConfigureAwait(false);
    }

    private static void ExitBecauseTheClientIsGone() => Environment.Exit(ClientGoneExitCode);

    /// <summary>Serves calls until the input ends or a shutdown frame arrives.</summary>
    /// <param name="input">Frames from the client.</param>
    /// <param name="output">Frames to the client.</param>
    /// <param name="cancellationToken">Stops serving.</param>
    public static Task RunAsync(Stream input, Stream output, CancellationToken cancellationToken = default) =>
        RunAsync(input, output, new CallRunner(OpenStore, Environment.MachineName + "/" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)), onClientGone: null, cancellationToken);

    /// <summary>Serves calls through <paramref name="runner"/> (tests give it a store that fails).</summary>
    /// <param name="input">Frames from the client.</param>
    /// <param name="output">Frames to the client.</param>
    /// <param name="runner">Runs each call.</param>
    /// <param name="onClientGone">
    /// Called from the reading thread, while a call may still run, when the input ends without a shutdown frame or
    /// breaks: a worker process exits there. <see langword="null"/>: the current call finishes and serving ends.
    /// </param>
    /// <param name="cancellationToken">Stops serving.</param>
    /// <remarks>
    /// Two threads of its own: one reads the pipe (so that cancel frames arrive while a call runs), the other runs the
    /// calls one after the other and writes their answers. Neither touches the thread pool per call: handing each
    /// envelope to a pool thread cost a wake-up, and the pool's idle threads spun between calls (measured: an eighth of
    /// a worker's CPU in a 100,000-call map). A call that awaits real I/O still continues on the pool, as anywhere.
    /// </remarks>
    internal static Task RunAsync(Stream input, Stream output, CallRunner runner, Action? onClientGone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(runner);
        var invocations = new EnvelopeQueue();
        var current = new CurrentCall();
        var served = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        string ready = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var writeLock = new Lock();
        try
        {
            lock (writeLock)
            {
                LocalFrames.Write(output, LocalFrameType.Ready, Encoding.UTF8.GetBytes(ready));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The client is already gone: a faulted task, as every later failure to answer.
            return Task.FromException(e);
        }

        CancellationTokenRegistration stop = cancellationToken.Register(static q => ((EnvelopeQueue)q!).Complete(), invocations);
        Exception? readError = null;
        var reader = new Thread(() =>
        {
            bool shutdown = false;
            try
            {
                while (!cancellationToken.IsCancellationRequested && LocalFrames.Read(input) is { } frame)
                {
                    switch (frame.Type)
                    {
                        case LocalFrameType.Invoke:
                            invocations.Add(LocalEnvelope.Decode(frame.Payload));
                            break;
                        case LocalFrameType.Cancel:
                            current.Cancel(Encoding.UTF8.GetString(frame.Payload));
                            break;
                        case LocalFrameType.Shutdown:
                            shutdown = true;
                            return;
                        default:
                            throw new InvalidDataException($"Unexpected frame {frame.Type} from the client.");
                    }
                }
            }
            catch (Exception e)
            {
                readError = e;
            }
            finally
            {
                if (!shutdown && !cancellationToken.IsCancellationRequested)
                {
                    // The client died or closed the pipe: a running call's result has no reader.
                    onClientGone?.Invoke();
                }

                invocations.Complete();
            }
        })
        {
            IsBackground = true,
            Name = "Neutral local worker reader",
        };

        var caller = new Thread(() =>
        {
            try
            {
                while (invocations.Take(cancellationToken) is { } envelope)
                {
                    LocalFrameType type;
                    byte[] payload;
                    using (CancellationTokenSource call = current.Start(envelope.JobId))
                    {
                        try
                        {
                            // Blocking is this thread's job: the local store completes synchronously, and a call that
                            // awaits real I/O continues on the pool while this thread waits for it.
                            CallOutcome outcome = runner.RunAsync(envelope, call.Token).GetAwaiter().GetResult();
                            (type, payload) = (LocalFrameType.Done, LocalDone.Encode(outcome));
                        }
                        catch (Exception e)
                        {
                            // Storage failed where not even a status could be written: the attempt is lost, not the worker.
                            // Saying so lets the client retry it at once rather than at its deadline.
                            (type, payload) = (LocalFrameType.Lost, LocalLost.Encode(envelope.JobId, envelope.CallIndex, envelope.Attempt,
                                e.GetType().FullName + ": " + RemoteErrors.Message(e)));
                        }
                        finally
                        {
                            current.End();
                        }
                    }

                    lock (writeLock)
                    {
                        LocalFrames.Write(output, type, payload);
                    }
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    served.TrySetCanceled(cancellationToken);
                }
                else if (readError is not null and not IOException)
                {
                    served.TrySetException(new InvalidDataException("The local worker's input failed: " + readError.Message, readError));
                }
                else
                {
                    served.TrySetResult();
                }
            }
            catch (Exception e)
            {
                // The answer could not be written: the client is gone.
                served.TrySetException(e);
            }
            finally
            {
                stop.Dispose();
            }
        })
        {
            IsBackground = true,
            Name = "Neutral local worker calls",
        };
        reader.Start();
        caller.Start();
        return served.Task;
    }

    /// <summary>
    /// The envelopes read and not yet run: the reader adds, the call thread blocks on <see cref="Take"/> (a monitor
    /// wait, which sleeps at once rather than spinning).
    /// </summary>
    private sealed class EnvelopeQueue
    {
        private readonly Queue<InvocationEnvelope> _queue = new();
        private bool _completed;

        public void Add(InvocationEnvelope envelope)
        {
            lock (_queue)
            {
                _queue.Enqueue(envelope);
                Monitor.Pulse(_queue);
            }
        }

        public void Complete()
        {
            lock (_queue)
            {
                _completed = true;
                Monitor.PulseAll(_queue);
            }
        }

        /// <summary>The next envelope; <see langword="null"/> once the input has ended (or serving stops) and none is left.</summary>
        public InvocationEnvelope? Take(CancellationToken cancellationToken)
        {
            lock (_queue)
            {
                while (true)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return null;
                    }

                    if (_queue.TryDequeue(out InvocationEnvelope? envelope))
                    {
                        return envelope;
                    }

                    if (_completed)
                    {
                        return null;
                    }

                    Monitor.Wait(_queue);
                }
            }
        }
    }

    private sealed class CurrentCall
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _cancelledJobs = new(StringComparer.Ordinal);
        private string? _job;
        private CancellationTokenSource? _source;

        public CancellationTokenSource Start(string job)
        {
            var source = new CancellationTokenSource();
            lock (_lock)
            {
                _job = job;
                _source = source;
                if (_cancelledJobs.Contains(job))
                {
                    // The cancel overtook the call: it starts with its token already fired.
                    source.Cancel();
                }
            }

            return source;
        }

        public void End()
        {
            lock (_lock)
            {
                _job = null;
                _source = null;
            }
        }

        public void Cancel(string job)
        {
            lock (_lock)
            {
                _cancelledJobs.Add(job);
                if (_job == job)
                {
                    _source?.Cancel();
                }
            }
        }
    }
}
