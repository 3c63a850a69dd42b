using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>What the action proxy answers to <c>/init</c> or <c>/run</c>: the HTTP status and the JSON body.</summary>
/// <param name="Status">200 when the request was served; the proxy's own error codes otherwise (400, 403, 500, 502).</param>
/// <param name="Body">The action's reply line for a successful <c>/run</c>, else the proxy's <c>{"error": ...}</c> or <c>{"ok":true}</c>.</param>
public sealed record ProxyReply(int Status, string Body)
{
    /// <summary>Whether the proxy answered 200.</summary>
    public bool Ok => Status == 200;

    /// <summary>The body's <c>error</c> field, if it is a JSON object that has one.</summary>
    public string? Error
    {
        get
        {
            try
            {
                using JsonDocument json = JsonDocument.Parse(Body);
                return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out JsonElement error)
                    ? error.ToString()
                    : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    internal static ProxyReply Failure(int status, string error) =>
        new(status, JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = error }));
}

/// <summary>
/// One action container's action proxy (openwhisk-runtime-go 1.17.1's actionloop proxy), for a native action, as its
/// source has it:
/// <list type="bullet">
/// <item><c>/init</c> is accepted once (403 after); it starts <c>exec</c> with exactly <c>__OW_PROXY_VERSION</c>,
/// <c>__OW_WAIT_FOR_ACK</c> (only when the container has <c>OW_WAIT_FOR_ACK</c>: the Go images do, the generic
/// actionloop image may not), the container's own <c>__OW_*</c> variables and the init <c>env</c> (no PATH, no HOME),
/// in the proxy's working directory (not the action's folder), with standard input a pipe, file descriptor 3 the
/// result channel, and standard output and error the container's. With the ack it waits for <c>{"ok":true}</c> (an exit
/// first is a 502); without, it only checks the process is alive 5 ms later.</item>
/// <item><c>/run</c> writes the body as one line and answers the action's reply line (502 if that is not a JSON
/// object or array); after each activation it writes the <see cref="OutputGuard"/> line on standard output and
/// error. It never restarts <c>exec</c>: a death during an activation answers 400 "command exited" and every later
/// <c>/run</c> 500 "no action defined yet"; a death while idle answers one 500 "command exited", and the next
/// <c>/run</c> hangs (the proxy has consumed the exit and waits for a reply that never comes) until the invoker's
/// timeout. The invoker then destroys the container.</item>
/// </list>
/// The HTTP layer is left out: <see cref="InitAsync"/> and <see cref="RunAsync"/> return what the proxy would answer.
/// </summary>
public sealed partial class OpenWhiskActionProxy : IAsyncDisposable
{
    /// <summary>The proxy version emulated, passed to the action as <c>__OW_PROXY_VERSION</c>.</summary>
    public const string Version = "1.17.1";

    /// <summary>The line the proxy writes on standard output and error after each activation (the invoker splits logs there).</summary>
    public const string OutputGuard = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

    /// <summary>A container environment that makes the proxy wait for the action's acknowledgement (as the Go images set).</summary>
    public static IReadOnlyDictionary<string, string> WithAck { get; } = new Dictionary<string, string> { ["OW_WAIT_FOR_ACK"] = "1" };

    /// <summary>A container environment without <c>OW_WAIT_FOR_ACK</c> (as the generic actionloop image may be).</summary>
    public static IReadOnlyDictionary<string, string> WithoutAck { get; } = new Dictionary<string, string>();

    private readonly string _workingDirectory;
    private readonly IReadOnlyDictionary<string, string> _container;
    private readonly TimeProvider _time;
    private readonly string _stdout;
    private readonly string _stderr;
    private readonly string _fifo;
    private readonly SemaphoreSlim _serial = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly long[] _logOffsets = new long[2];
    private Process? _process;
    private FileStream? _results;
    private StreamReader? _resultLines;
    private bool _initialized;
    private bool _running; // the proxy's executor: set by a successful start, cleared by a death during an activation
    private bool _exitConsumed; // the proxy learns of an exit once; after that it no longer sees it
    private bool _disposed;

    /// <summary>Creates the container's proxy, not yet initialized.</summary>
    /// <param name="workingDirectory">The proxy's (and so <c>exec</c>'s) working directory; the logs and the result FIFO live there too.</param>
    /// <param name="containerEnvironment">The container's variables: <c>OW_WAIT_FOR_ACK</c> decides the ack, <c>__OW_*</c> ones are passed on (default <see cref="WithAck"/>).</param>
    /// <param name="timeProvider">The clock of the invoker's timeouts given to <see cref="InitAsync"/> and <see cref="RunAsync"/>.</param>
    public OpenWhiskActionProxy(string workingDirectory, IReadOnlyDictionary<string, string>? containerEnvironment = null, TimeProvider? timeProvider = null)
    {
        _workingDirectory = workingDirectory;
        _container = containerEnvironment ?? WithAck;
        _time = timeProvider ?? TimeProvider.System;
        string id = Guid.NewGuid().ToString("N")[..8];
        _stdout = Path.Combine(workingDirectory, ".ow-stdout-" + id);
        _stderr = Path.Combine(workingDirectory, ".ow-stderr-" + id);
        _fifo = Path.Combine(workingDirectory, ".ow-results-" + id);
        File.WriteAllBytes(_stdout, []);
        File.WriteAllBytes(_stderr, []);
    }

    /// <summary>Whether the proxy waits for the action's acknowledgement (the container has a non-empty <c>OW_WAIT_FOR_ACK</c>).</summary>
    public bool WaitsForAck => _container.TryGetValue("OW_WAIT_FOR_ACK", out string? ack) && ack.Length > 0;

    /// <summary>The variables <c>exec</c> was started with (empty before <see cref="InitAsync"/>).</summary>
    public IReadOnlyDictionary<string, string> ExecEnvironment { get; private set; } = new Dictionary<string, string>();

    /// <summary>Everything on the container's standard output, then everything on its standard error (guard lines included).</summary>
    public string Logs => Read(_stdout) + Read(_stderr);

    /// <summary>Whether <c>exec</c> was started and has exited.</summary>
    public bool Exited => _process is { HasExited: true };

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeFifo(string path, uint mode);

    /// <summary>
    /// <c>/init</c> for an action already extracted: <paramref name="exec"/> is its executable, <paramref name="environment"/>
    /// the init <c>env</c> (which the invoker fills with the action's init parameters and its <c>__OW_*</c> context).
    /// </summary>
    /// <exception cref="TimeoutException">No acknowledgement within <paramref name="timeout"/> (the real proxy would wait on; the invoker gives up).</exception>
    public async Task<ProxyReply> InitAsync(string exec, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        await _serial.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return ProxyReply.Failure(403, "Cannot initialize the action more than once.");
            }

            var variables = new Dictionary<string, string>(StringComparer.Ordinal) { ["__OW_PROXY_VERSION"] = Version };
            if (WaitsForAck)
            {
                variables["__OW_WAIT_FOR_ACK"] = _container["OW_WAIT_FOR_ACK"];
            }

            foreach (var (name, value) in _container)
            {
                if (name.StartsWith("__OW_", StringComparison.Ordinal))
                {
                    variables[name] = value;
                }
            }

            foreach (var (name, value) in environment)
            {
                variables[name] = value;
            }

            ExecEnvironment = variables;
            Start(exec, variables);
            string? failure = WaitsForAck ? await AwaitAckAsync(timeout).ConfigureAwait(false) : await AliveAfterStartAsync().ConfigureAwait(false);
            if (failure is not null)
            {
                return ProxyReply.Failure(502, "cannot start action: " + failure);
            }

            _running = true;
            _initialized = true;
            return new ProxyReply(200, "{\"ok\":true}");
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary><c>/run</c>: <paramref name="body"/> (the invoker's JSON) as one line to the action, its reply line back.</summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/>: the invoker's time limit; it destroys the container.</exception>
    public async Task<ProxyReply> RunAsync(string body, TimeSpan timeout)
    {
        await _serial.WaitAsync().ConfigureAwait(false);
        try
        {
            // The invoker's timeout counts from the request, before anything can wait.
            using var cancel = new CancellationTokenSource(timeout, _time);
            using CancellationTokenRegistration stop = _stop.Token.Register(cancel.Cancel);
            if (!_running || _process is null)
            {
                return ProxyReply.Failure(500, "no action defined yet");
            }

            if (_process.HasExited && !_exitConsumed)
            {
                _exitConsumed = true;
                return ProxyReply.Failure(500, "command exited");
            }

            try
            {
                await _process.StandardInput.WriteAsync(body.Replace("\n", "", StringComparison.Ordinal) + "\n").ConfigureAwait(false);
                await _process.StandardInput.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // A dead action's pipe: the proxy ignores the write's error and waits for the exit (or a reply) as usual.
            }

            Task<string?> read = _resultLines!.ReadLineAsync(cancel.Token).AsTask();
            Task exit = _exitConsumed ? Task.Delay(Timeout.InfiniteTimeSpan, cancel.Token) : _process.WaitForExitAsync(cancel.Token);
            Task first = await Task.WhenAny(read, exit).ConfigureAwait(false);
            if (first == read && read.IsCompletedSuccessfully && read.Result is { } reply)
            {
                WriteGuards();
                return IsObjectOrArray(reply) ? new ProxyReply(200, reply) : ProxyReply.Failure(502, "The action did not return a dictionary or array.");
            }

            if (first == exit && exit.IsCompletedSuccessfully)
            {
                _exitConsumed = true;
                _running = false;
                WriteGuards();
                return ProxyReply.Failure(400, "command exited");
            }

            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            throw new TimeoutException($"The action proxy did not answer /run within {timeout.TotalMilliseconds:0} ms (the action's time limit).");
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>
    /// The log lines of the activation that ended last, as the invoker collects them for its record: each stream up to
    /// its next <see cref="OutputGuard"/> line, as <c>stdout: ...</c> / <c>stderr: ...</c>. A stream without a guard
    /// line (the action died, or wrote an unterminated line that the guard was glued to) gives everything it has.
    /// </summary>
    public IReadOnlyList<string> TakeActivationLogs()
    {
        var lines = new List<string>();
        TakeLines(_stdout, 0, "stdout: ", lines);
        TakeLines(_stderr, 1, "stderr: ", lines);
        return lines;
    }

    /// <summary>Kills <c>exec</c> (the proxy stays), as an out-of-memory kill of the action's process would.</summary>
    public void Kill()
    {
        try
        {
            _process?.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // already gone
        }
    }

    /// <summary>Kills <c>exec</c> (see <see cref="Kill"/>) and waits for its exit.</summary>
    public async Task KillAsync()
    {
        Kill();
        if (_process is { } process)
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    private void Start(string exec, Dictionary<string, string> variables)
    {
        if (MakeFifo(_fifo, Convert.ToUInt32("600", 8)) != 0)
        {
            throw new IOException($"mkfifo {_fifo} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        // env -i: nothing but the given variables; the shell only puts the result pipe on descriptor 3 and the
        // container's log files on 1 and 2 (appending, as the proxy's own guard lines do), and env -u drops the PWD it
        // would export.
        var info = new ProcessStartInfo("/usr/bin/env")
        {
            WorkingDirectory = _workingDirectory,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-i");
        foreach (var (name, value) in variables)
        {
            info.ArgumentList.Add(name + "=" + value);
        }

        info.ArgumentList.Add("/bin/sh");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec 3>\"$1\" 1>>\"$2\" 2>>\"$3\"; exec /usr/bin/env -u PWD \"$0\"");
        info.ArgumentList.Add(exec);
        info.ArgumentList.Add(_fifo);
        info.ArgumentList.Add(_stdout);
        info.ArgumentList.Add(_stderr);
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + exec);

        // O_RDWR: opening a FIFO that way never blocks, whether or not the writer is there yet. Holding a writer also
        // means a read never sees the end of the pipe, as with the proxy, which keeps its end of the pipe open.
        _results = new FileStream(_fifo, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 1);
        _resultLines = new StreamReader(_results, new UTF8Encoding(false));
    }

    private async Task<string?> AwaitAckAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, _time);
        using CancellationTokenRegistration stop = _stop.Token.Register(cancel.Cancel);
        Task<string?> read = _resultLines!.ReadLineAsync(cancel.Token).AsTask();
        Task exit = _process!.WaitForExitAsync(cancel.Token);
        Task first = await Task.WhenAny(read, exit).ConfigureAwait(false);
        if (first == read && read.IsCompletedSuccessfully && read.Result is { } ack)
        {
            return IsAck(ack) ? null : "The action did not initialize properly.";
        }

        if (first == exit && exit.IsCompletedSuccessfully)
        {
            _exitConsumed = true;
            return "Command exited abruptly during initialization.";
        }

        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        throw new TimeoutException($"The action did not acknowledge /init within {timeout.TotalMilliseconds:0} ms.");
    }

    private async Task<string?> AliveAfterStartAsync()
    {
        // The proxy's own short wait, in real time: part of its behaviour, not a test's bound.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(5));
        try
        {
            await _process!.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
            _exitConsumed = true;
            return "command exited";
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static bool IsAck(string line)
    {
        try
        {
            using JsonDocument ack = JsonDocument.Parse(line);
            return ack.RootElement.ValueKind == JsonValueKind.Object && ack.RootElement.TryGetProperty("ok", out JsonElement ok) && ok.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsObjectOrArray(string line)
    {
        try
        {
            using JsonDocument reply = JsonDocument.Parse(line);
            return reply.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private void WriteGuards()
    {
        File.AppendAllText(_stdout, OutputGuard + "\n");
        File.AppendAllText(_stderr, OutputGuard + "\n");
    }

    private void TakeLines(string file, int stream, string prefix, List<string> lines)
    {
        byte[] all = File.ReadAllBytes(file);
        int start = (int)Math.Min(_logOffsets[stream], all.Length);
        string text = Encoding.UTF8.GetString(all, start, all.Length - start);
        int consumed = 0;
        bool guarded = false;
        int before = lines.Count;
        while (consumed < text.Length)
        {
            int end = text.IndexOf('\n', consumed);
            string line = end < 0 ? text[consumed..] : text[consumed..end];
            consumed = end < 0 ? text.Length : end + 1;
            if (line == OutputGuard)
            {
                guarded = true;
                break;
            }

            lines.Add(prefix + line);
        }

        _logOffsets[stream] = start + Encoding.UTF8.GetByteCount(text.AsSpan(0, consumed));
        if (!guarded && lines.Count > before)
        {
            lines.Add(prefix + "[no " + OutputGuard + " line: the activation's logs may run into the next one's]");
        }
    }

    private static string Read(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }

            // A read abandoned when the action died is still blocked on the FIFO (this side holds a writer): one
            // newline through a handle of its own ends it, so no thread stays stuck.
            try
            {
                using var wake = new FileStream(_fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
                wake.WriteByte((byte)'\n');
            }
            catch (IOException)
            {
            }

            _resultLines!.Dispose();
            await _results!.DisposeAsync().ConfigureAwait(false);
            process.Dispose();
            File.Delete(_fifo);
        }

        // Not the semaphore: a run that was stopped may still be releasing it.
        _stop.Dispose();
    }
}
