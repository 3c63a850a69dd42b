using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>
/// The action side of OpenWhisk, as its action proxy (openwhisk-runtime-go's actionloop executor) runs a native
/// action: it starts <c>exec</c> with exactly the given variables (the <c>__OW_*</c> ones and the init <c>env</c>;
/// no PATH, no HOME), in a working directory that is not the action's folder, with standard input a pipe, file
/// descriptor 3 the result channel, and standard output and error the logs. With <c>__OW_WAIT_FOR_ACK</c> it waits for
/// <c>{"ok":true}</c> on file descriptor 3; then each activation is one line in and one line out, and a reply that is
/// not a JSON object or array is an error, as the proxy answers it.
/// </summary>
public sealed partial class OpenWhiskActionProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly FileStream _results;
    private readonly StreamReader _resultLines;
    private readonly StringBuilder _logs = new();

    private readonly string _fifo;

    private OpenWhiskActionProxy(Process process, FileStream results, string fifo)
    {
        _process = process;
        _fifo = fifo;
        _results = results;
        _resultLines = new StreamReader(results, new UTF8Encoding(false));
    }

    /// <summary>What the action wrote to standard output and error so far.</summary>
    public string Logs
    {
        get
        {
            lock (_logs)
            {
                return _logs.ToString();
            }
        }
    }

    /// <summary>Whether the action process has exited.</summary>
    public bool Exited => _process.HasExited;

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeFifo(string path, uint mode);

    /// <summary>Starts <paramref name="exec"/> as the proxy does, and waits for its acknowledgement when asked to.</summary>
    public static async Task<OpenWhiskActionProxy> StartAsync(string exec, IReadOnlyDictionary<string, string> environment, string workingDirectory, bool waitForAck = true, TimeSpan? timeout = null)
    {
        string fifo = Path.Combine(workingDirectory, ".ow-results-" + Guid.NewGuid().ToString("N")[..8]);
        if (MakeFifo(fifo, Convert.ToUInt32("600", 8)) != 0)
        {
            throw new IOException($"mkfifo {fifo} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        // env -i: nothing but the given variables; the shell only puts the results pipe on descriptor 3, and env -u
        // drops the PWD it would export.
        var info = new ProcessStartInfo("/usr/bin/env")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-i");
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        if (waitForAck)
        {
            variables["__OW_WAIT_FOR_ACK"] = "1";
        }

        foreach (var (name, value) in variables)
        {
            info.ArgumentList.Add(name + "=" + value);
        }

        info.ArgumentList.Add("/bin/sh");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec 3>\"$1\"; exec /usr/bin/env -u PWD \"$0\"");
        info.ArgumentList.Add(exec);
        info.ArgumentList.Add(fifo);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + exec);

        // O_RDWR: opening a FIFO that way never blocks, whether or not the writer is there yet.
        // The pipe stays until disposal: the child's shell may open it after this.
        var results = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 1);
        var proxy = new OpenWhiskActionProxy(process, results, fifo);
        process.OutputDataReceived += (_, e) => proxy.Log(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitForAck)
        {
            try
            {
                string ack = await proxy.ReadResultAsync(timeout ?? TimeSpan.FromSeconds(60));
                if (ack.Replace(" ", "", StringComparison.Ordinal) != "{\"ok\":true}")
                {
                    throw new InvalidOperationException($"The action did not initialize properly: '{ack}'. Logs: {proxy.Logs}");
                }
            }
            catch
            {
                await proxy.DisposeAsync();
                throw;
            }
        }

        return proxy;
    }

    /// <summary>Kills the action's process (and what it started), as the invoker destroys a container.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    /// <summary>Runs one activation: the JSON line in, the action's reply line out (as the proxy's /run returns it).</summary>
    public async Task<string> RunAsync(string activationJson, TimeSpan timeout)
    {
        string line = activationJson.Replace("\n", "", StringComparison.Ordinal);
        await _process.StandardInput.WriteAsync(line + "\n");
        await _process.StandardInput.FlushAsync();
        return await ReadResultAsync(timeout);
    }

    private async Task<string> ReadResultAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        Task<string?> read = _resultLines.ReadLineAsync(cancel.Token).AsTask();
        Task exited = _process.WaitForExitAsync(cancel.Token);
        Task first = await Task.WhenAny(read, exited);
        if (first == read && await read is { } result)
        {
            return result;
        }

        throw new InvalidOperationException(_process.HasExited
            ? $"command exited (code {_process.ExitCode}). Logs: {Logs}"
            : $"no answer from the action within {timeout.TotalSeconds:0} s. Logs: {Logs}");
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logs)
        {
            _logs.AppendLine(line);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _resultLines.Dispose();
        await _results.DisposeAsync();
        _process.Dispose();
        File.Delete(_fifo);
    }
}
