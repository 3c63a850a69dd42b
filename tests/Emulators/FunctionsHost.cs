using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Neutral.Emulators;

/// <summary>
/// The Azure Functions host's side of a custom-handler Function App, as Microsoft's custom-handler and queue-trigger
/// documentation describe it, in front of real handler processes started from the app's folder (the deployed package).
/// <para>
/// It reads <c>host.json</c> (<c>customHandler.description.defaultExecutablePath</c>, <c>arguments</c>,
/// <c>workingDirectory</c>, <c>functionTimeout</c>, <c>extensions.queues</c>: <c>batchSize</c>, <c>newBatchThreshold</c>,
/// <c>maxDequeueCount</c>, <c>visibilityTimeout</c>, <c>maxPollingInterval</c>, <c>messageEncoding</c>) and each
/// <c>{function}/function.json</c> (a <c>queueTrigger</c> with <c>%setting%</c> expressions and a connection setting, or
/// an <c>httpTrigger</c>). Each instance is one handler process with its own <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> and the
/// app settings as its environment, ready once it answers <c>GET /</c> (asked every 25 ms for up to 30 s, as the host's
/// <c>DefaultHttpWorkerService.IsWorkerReady</c>); it takes messages from the queue in batches, posts
/// <c>{"Data": {binding: item}, "Metadata": {...}}</c> to <c>/{function}</c>, deletes a message whose invocation
/// answered 2xx, makes it visible again after <c>visibilityTimeout</c> otherwise, and moves a message dequeued more than
/// <c>maxDequeueCount</c> times to <c>{queue}-poison</c>. A process that dies is started again; an invocation past
/// <c>functionTimeout</c> fails and its process is restarted. HTTP triggers are served on <see cref="HttpEndpoint"/>
/// (<c>/api/{function}</c>, the function key in <c>code</c> or <c>x-functions-key</c>). On 127.0.0.1 only.
/// </para>
/// </summary>
public sealed partial class FunctionsHost : IAsyncDisposable
{
    private readonly string _app;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Instance> _instances = [];
    private readonly List<Task> _loops = [];
    private readonly ConcurrentQueue<string> _outcomes = new();
    private readonly ConcurrentQueue<string> _logs = new();
    private readonly ConcurrentQueue<string> _journal = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly HttpListener _http;
    private readonly QueueSettings _queueSettings;
    private readonly List<FunctionInfo> _functions;
    private int _invocations;
    private int _launchers;
    private int _poisoned;

    /// <summary>Starts <paramref name="instances"/> instances of the app in <paramref name="appFolder"/> with <paramref name="appSettings"/>.</summary>
    public FunctionsHost(string appFolder, IReadOnlyDictionary<string, string> appSettings, int instances = 2, string functionKey = "test-function-key")
    {
        _app = appFolder;
        AppSettings = appSettings;
        FunctionKey = functionKey;
        using JsonDocument host = JsonDocument.Parse(File.ReadAllText(Path.Combine(appFolder, "host.json")));
        JsonElement root = host.RootElement;
        JsonElement description = root.GetProperty("customHandler").GetProperty("description");
        Executable = Path.Combine(appFolder, description.GetProperty("defaultExecutablePath").GetString()!);
        Arguments = description.TryGetProperty("arguments", out JsonElement args) ? args.EnumerateArray().Select(a => Expand(a.GetString()!)).ToArray() : [];
        WorkingDirectory = description.TryGetProperty("workingDirectory", out JsonElement wd) && wd.GetString() is { Length: > 0 } dir ? Path.Combine(appFolder, dir) : appFolder;
        FunctionTimeout = root.TryGetProperty("functionTimeout", out JsonElement ft) ? TimeSpan.Parse(ft.GetString()!, CultureInfo.InvariantCulture) : TimeSpan.FromMinutes(5);
        _queueSettings = QueueSettings.From(root);
        _functions = Directory.GetDirectories(appFolder)
            .Where(d => File.Exists(Path.Combine(d, "function.json")))
            .Select(d => FunctionInfo.From(Path.GetFileName(d), File.ReadAllText(Path.Combine(d, "function.json")), Expand))
            .ToList();
        // The host creates its queue triggers' queues when it starts.
        foreach (FunctionInfo queued in _functions.Where(f => !f.HttpTrigger))
        {
            new QueueClient(appSettings[queued.Connection!], queued.QueueName).CreateIfNotExists();
        }

        (_http, HttpEndpoint) = Listen();
        _loops.Add(Task.Run(ServeHttpAsync));
        for (int i = 0; i < instances; i++)
        {
            var instance = new Instance(this, i);
            _instances.Add(instance);
            _loops.Add(Task.Run(instance.RunAsync));
        }
    }

    /// <summary>The app settings: the handler's environment and the values of <c>%name%</c> expressions.</summary>
    public IReadOnlyDictionary<string, string> AppSettings { get; }

    /// <summary>The function key HTTP triggers with <c>authLevel: function</c> accept.</summary>
    public string FunctionKey { get; }

    /// <summary>The handler executable (<c>defaultExecutablePath</c>).</summary>
    public string Executable { get; }

    /// <summary>The handler's arguments, expanded.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The handler's working directory.</summary>
    public string WorkingDirectory { get; }

    /// <summary><c>functionTimeout</c> of <c>host.json</c>.</summary>
    public TimeSpan FunctionTimeout { get; }

    /// <summary>Where HTTP triggers are served (<c>{HttpEndpoint}api/{function}</c>).</summary>
    public Uri HttpEndpoint { get; }

    /// <summary>Invocations posted to a handler (queue and HTTP).</summary>
    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>Invocations whose payload is a launcher call (<c>neutral:launch</c>, <c>Job:InvokeFrom=cloud</c>).</summary>
    public int LauncherInvocations => Volatile.Read(ref _launchers);

    /// <summary>Messages moved to the poison queue.</summary>
    public int Poisoned => Volatile.Read(ref _poisoned);

    /// <summary>How each invocation ended: <c>ok</c>, <c>failed:{status}</c>, <c>timeout</c>, <c>exited</c>.</summary>
    public IReadOnlyCollection<string> Outcomes => _outcomes;

    /// <summary>The <c>Logs</c> the handler returned, in order of arrival.</summary>
    public IReadOnlyCollection<string> Logs => _logs;

    /// <summary>What the host did, each line stamped with the real milliseconds since it started: for a failed test's output.</summary>
    public string Journal => string.Join(Environment.NewLine, _journal);

    private void Note(string what) => _journal.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalMilliseconds,9:0.0} ms  {what}"));

    /// <summary>Invocations running in a handler now.</summary>
    public int Running => _instances.Sum(i => i.Running);

    private readonly QueueHold _hold = new();

    /// <summary>
    /// Lets <paramref name="count"/> more queue items be invoked, then holds the ones it takes (as a host whose instances
    /// are all busy would leave them waiting) until <see cref="Release"/>.
    /// </summary>
    public void HoldAfter(int count) => _hold.HoldAfter(count);

    /// <summary>Ends <see cref="HoldAfter"/>.</summary>
    public void Release() => _hold.Release();

    private Task TurnAsync() => _hold.TurnAsync();

    /// <summary>Kills the handler processes that are running an invocation now (as an out-of-memory kill would).</summary>
    public int KillRunning() => _instances.Count(i => i.Running > 0 && i.Kill());

    [GeneratedRegex("%([A-Za-z0-9_.:-]+)%")]
    private static partial Regex SettingExpression();

    private string Expand(string text) => SettingExpression().Replace(text, m => AppSettings.TryGetValue(m.Groups[1].Value, out string? v) ? v
        : throw new InvalidOperationException($"the app setting '{m.Groups[1].Value}' that '{text}' names is not set"));

    private static (HttpListener, Uri) Listen() => Loopback.Listen();

    private static int FreePort() => Loopback.FreePort();

    /// <summary>HTTP triggers: <c>/api/{function}</c>, forwarded to an instance as the custom-handler request payload.</summary>
    private Task ServeHttpAsync() => Loopback.ServeAsync(_http, ForwardHttpAsync, _stop.Token);

    private async Task ForwardHttpAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        string[] path = request.Url!.AbsolutePath.Trim('/').Split('/');
        FunctionInfo? function = path.Length == 2 && path[0] == "api" ? _functions.FirstOrDefault(f => f.HttpTrigger && f.Name == path[1]) : null;
        if (function is null || !function.Methods.Contains(request.HttpMethod.ToLowerInvariant()))
        {
            await Loopback.ReplyAsync(context.Response, 404, "text/plain", "");
            return;
        }

        string? key = request.QueryString["code"] ?? request.Headers["x-functions-key"];
        if (function.AuthLevel != "anonymous" && key != FunctionKey)
        {
            await Loopback.ReplyAsync(context.Response, 401, "text/plain", "");
            return;
        }

        var payload = new Dictionary<string, object?>
        {
            ["Data"] = new Dictionary<string, object?>
            {
                [function.Binding] = new Dictionary<string, object?>
                {
                    ["Url"] = request.Url.ToString(),
                    ["Method"] = request.HttpMethod,
                    ["Query"] = JsonSerializer.Serialize(request.QueryString.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => request.QueryString[k])),
                    ["Headers"] = request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => new[] { request.Headers[k] }),
                    ["Params"] = new Dictionary<string, string>(),
                    ["Body"] = body,
                },
            },
            ["Metadata"] = new Dictionary<string, object?>(),
        };
        int chosen = Random.Shared.Next(_instances.Count);
        Note($"HTTP request for {function.Name}: invoking on instance {chosen}");
        (int status, JsonDocument? reply) = await _instances[chosen].InvokeAsync(function.Name, JsonSerializer.Serialize(payload));
        Note($"HTTP request for {function.Name}: answered {status}");
        using (reply)
        {
            if (status is < 200 or > 299 || reply is null || !reply.RootElement.TryGetProperty("Outputs", out JsonElement outputs) || !outputs.TryGetProperty("res", out JsonElement res))
            {
                await Loopback.ReplyAsync(context.Response, 500, "text/plain", "");
                return;
            }

            int code = res.TryGetProperty("statusCode", out JsonElement sc) ? (sc.ValueKind == JsonValueKind.Number ? sc.GetInt32() : int.Parse(sc.GetString()!, CultureInfo.InvariantCulture)) : 200;
            string type = res.TryGetProperty("headers", out JsonElement headers) && headers.TryGetProperty("Content-Type", out JsonElement ct) ? ct.GetString()! : "text/plain";
            await Loopback.ReplyAsync(context.Response, code, type, res.TryGetProperty("body", out JsonElement b) ? b.GetString() ?? "" : "");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _http.Stop();
        Loopback.CloseQuietly(_http);
        foreach (Instance instance in _instances)
        {
            instance.Kill();
        }

        await Loopback.StopLoopsAsync(_loops.ToArray());

        _stop.Dispose();
    }

    /// <summary><c>extensions.queues</c> of <c>host.json</c>, with the documented defaults.</summary>
    private sealed record QueueSettings(int BatchSize, int NewBatchThreshold, int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval, bool Base64)
    {
        public static QueueSettings From(JsonElement host)
        {
            JsonElement queues = host.TryGetProperty("extensions", out JsonElement e) && e.TryGetProperty("queues", out JsonElement q) ? q : default;
            int Int(string name, int fallback) => queues.ValueKind == JsonValueKind.Object && queues.TryGetProperty(name, out JsonElement v) ? v.GetInt32() : fallback;
            TimeSpan Time(string name, TimeSpan fallback) => queues.ValueKind == JsonValueKind.Object && queues.TryGetProperty(name, out JsonElement v) ? TimeSpan.Parse(v.GetString()!, CultureInfo.InvariantCulture) : fallback;
            int batch = Int("batchSize", 16);
            return new QueueSettings(batch, Int("newBatchThreshold", batch / 2), Int("maxDequeueCount", 5), Time("visibilityTimeout", TimeSpan.Zero),
                Time("maxPollingInterval", TimeSpan.FromMinutes(1)),
                !(queues.ValueKind == JsonValueKind.Object && queues.TryGetProperty("messageEncoding", out JsonElement enc) && enc.GetString() == "none"));
        }
    }

    /// <summary>One function of the app: its trigger.</summary>
    private sealed record FunctionInfo(string Name, string Binding, bool HttpTrigger, string? QueueName, string? Connection, string AuthLevel, string[] Methods)
    {
        public static FunctionInfo From(string name, string json, Func<string, string> expand)
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement trigger = document.RootElement.GetProperty("bindings").EnumerateArray()
                .First(b => b.GetProperty("direction").GetString() == "in" && b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            string type = trigger.GetProperty("type").GetString()!;
            string binding = trigger.GetProperty("name").GetString()!;
            return type switch
            {
                "queueTrigger" => new FunctionInfo(name, binding, false, expand(trigger.GetProperty("queueName").GetString()!),
                    trigger.TryGetProperty("connection", out JsonElement c) ? c.GetString() : "AzureWebJobsStorage", "anonymous", []),
                "httpTrigger" => new FunctionInfo(name, binding, true, null, null,
                    trigger.TryGetProperty("authLevel", out JsonElement a) ? a.GetString()! : "function",
                    trigger.TryGetProperty("methods", out JsonElement m) ? m.EnumerateArray().Select(x => x.GetString()!.ToLowerInvariant()).ToArray() : ["get", "post"]),
                _ => throw new NotSupportedException($"function {name}: the emulator has no {type}"),
            };
        }
    }

    /// <summary>One instance: a handler process, its port, and its queue listeners.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Instances live as long as the host; their process is killed at its disposal.")]
    private sealed class Instance(FunctionsHost host, int index)
    {
        private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
        private readonly SemaphoreSlim _start = new(1, 1);
        private Process? _process;
        private int _port;
        private int _running;

        public int Running => Volatile.Read(ref _running);

        public bool Kill()
        {
            Process? process = Volatile.Read(ref _process);
            if (process is null || process.HasExited)
            {
                return false;
            }

            process.Kill(entireProcessTree: true);
            return true;
        }

        public async Task RunAsync()
        {
            // As the host restarts a worker that failed to start, after a pause, until it is stopped.
            while (!await TryStartAsync())
            {
                await Task.Delay(TimeSpan.FromSeconds(1), host._stop.Token);
            }

            await Task.WhenAll(host._functions.Where(f => !f.HttpTrigger).Select(ListenAsync));
        }

        /// <summary><see cref="EnsureStartedAsync"/>, false when the handler exited before it answered (an init error: its output is in the journal).</summary>
        private async Task<bool> TryStartAsync()
        {
            try
            {
                await EnsureStartedAsync();
                return true;
            }
            catch (HttpRequestException) when (host._stop.IsCancellationRequested)
            {
                // Disposed while the handler started: its kill ended the ping (seen in a CI run of 2026-12-06, the
                // process killed but not yet reaped, so HasExited was still false).
                throw new OperationCanceledException(host._stop.Token);
            }
            catch (HttpRequestException e) when (_process is { HasExited: true })
            {
                host.Note($"instance {index}: handler exited before it answered the ping: {e.Message}");
                return false;
            }
        }

        /// <summary>Starts the handler process if it is not running, and waits until it answers the readiness ping.</summary>
        private async Task EnsureStartedAsync()
        {
            await _start.WaitAsync(host._stop.Token);
            try
            {
                if (_process is { HasExited: false })
                {
                    return;
                }

                _port = FreePort();
                var info = new ProcessStartInfo(host.Executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = host.WorkingDirectory };
                foreach (string argument in host.Arguments)
                {
                    info.ArgumentList.Add(argument);
                }

                info.Environment.Clear();
                foreach (var (name, value) in host.AppSettings)
                {
                    info.Environment[name] = value;
                }

                info.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = _port.ToString(CultureInfo.InvariantCulture);
                info.Environment["FUNCTIONS_WORKER_RUNTIME"] = "custom";
                info.Environment["WEBSITE_INSTANCE_ID"] = $"instance{index}{Guid.NewGuid():N}";
                info.Environment["HOME"] = host.WorkingDirectory;
                _process = Process.Start(info)!;
                if (host._stop.IsCancellationRequested)
                {
                    // Disposed while this one started: DisposeAsync's kill may have missed it, and a handler left behind
                    // would outlive the test run (holding whatever its parent passed it).
                    _process.Kill(entireProcessTree: true);
                    host._stop.Token.ThrowIfCancellationRequested();
                }

                host.Note($"instance {index}: handler process {_process.Id} started on port {_port}");
                Process started = _process;
                _process.OutputDataReceived += (_, e) => host.Note($"instance {index} handler {started.Id} stdout: {e.Data ?? "(end)"}");
                _process.ErrorDataReceived += (_, e) => host.Note($"instance {index} handler {started.Id} stderr: {e.Data ?? "(end)"}");
                _process.EnableRaisingEvents = true;
                _process.Exited += (_, _) => host.Note($"instance {index} handler {started.Id} exited with code {started.ExitCode}");
                _process.BeginOutputReadLine();
                _process.BeginErrorReadLine();
                // As the host does: GET / every 25 ms until any HTTP answer, for up to 30 s (WorkerConstants).
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(host._stop.Token);
                wait.CancelAfter(TimeSpan.FromSeconds(30));
                while (true)
                {
                    try
                    {
                        using HttpResponseMessage ping = await _http.GetAsync(new Uri($"http://127.0.0.1:{_port}/"), wait.Token);
                        host.Note($"instance {index}: handler answered the ping ({(int)ping.StatusCode})");
                        return;
                    }
                    catch (HttpRequestException) when (!_process.HasExited && !host._stop.IsCancellationRequested)
                    {
                        await Task.Delay(25, wait.Token);
                    }
                }
            }
            finally
            {
                _start.Release();
            }
        }

        /// <summary>The queue trigger: batches from the queue, each message posted to the handler, settled by its answer.</summary>
        private async Task ListenAsync(FunctionInfo function)
        {
            QueueSettings settings = host._queueSettings;
            string connection = host.AppSettings.TryGetValue(function.Connection!, out string? c) ? c
                : throw new InvalidOperationException($"function {function.Name}: the connection setting '{function.Connection}' is not set");
            var queue = new QueueClient(connection, function.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
            var poison = new QueueClient(connection, function.QueueName + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
            await queue.CreateIfNotExistsAsync(cancellationToken: host._stop.Token);
            using var slots = new SemaphoreSlim(settings.BatchSize + settings.NewBatchThreshold);
            TimeSpan idle = TimeSpan.FromMilliseconds(50);
            while (!host._stop.IsCancellationRequested)
            {
                // A new batch when fewer than newBatchThreshold are in flight, as the host does.
                int free = Math.Min(settings.BatchSize, slots.CurrentCount);
                if (free == 0 || settings.BatchSize + settings.NewBatchThreshold - slots.CurrentCount > settings.NewBatchThreshold)
                {
                    await Task.Delay(10, host._stop.Token);
                    continue;
                }

                QueueMessage[] messages;
                try
                {
                    messages = (await queue.ReceiveMessagesAsync(free, TimeSpan.FromMinutes(10), host._stop.Token)).Value;
                    if (messages.Length > 0)
                    {
                        host.Note($"instance {index} received {string.Join(", ", messages.Select(m => m.MessageId[..8] + "#" + m.DequeueCount))}");
                    }
                }
                catch (RequestFailedException e)
                {
                    host.Note($"instance {index} receive failed: {e.Status} {e.ErrorCode}");
                    // The storage emulator is restarting: poll again shortly.
                    await Task.Delay(idle, host._stop.Token);
                    continue;
                }
                catch (HttpRequestException e)
                {
                    host.Note($"instance {index} receive failed: {e.Message}");
                    await Task.Delay(idle, host._stop.Token);
                    continue;
                }

                if (messages.Length == 0)
                {
                    await Task.Delay(idle, host._stop.Token);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, settings.MaxPollingInterval.Ticks));
                    continue;
                }

                idle = TimeSpan.FromMilliseconds(50);
                foreach (QueueMessage message in messages)
                {
                    await slots.WaitAsync(host._stop.Token);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await ProcessAsync(function, queue, poison, message);
                        }
                        catch (Exception) when (host._stop.IsCancellationRequested)
                        {
                        }
                        catch (RequestFailedException e)
                        {
                            host.Note($"message {message.MessageId[..8]}: settling failed: {e.Status} {e.ErrorCode}");
                            // Settling failed (the storage emulator restarted): the message comes back after its lease.
                        }
                        catch (HttpRequestException e)
                        {
                            host.Note($"message {message.MessageId[..8]}: settling failed: {e.Message}");
                        }
                        finally
                        {
                            slots.Release();
                        }
                    });
                }
            }
        }

        private async Task ProcessAsync(FunctionInfo function, QueueClient queue, QueueClient poison, QueueMessage message)
        {
            QueueSettings settings = host._queueSettings;
            if (message.DequeueCount > settings.MaxDequeueCount)
            {
                await poison.CreateIfNotExistsAsync();
                await poison.SendMessageAsync(message.MessageText);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                Interlocked.Increment(ref host._poisoned);
                host.Note($"message {message.MessageId[..8]}: poisoned");
                return;
            }

            string item;
            try
            {
                item = settings.Base64 ? Encoding.UTF8.GetString(Convert.FromBase64String(message.MessageText)) : message.MessageText;
            }
            catch (FormatException)
            {
                // The host cannot decode it: the invocation fails and the message is retried, then poisoned.
                host._outcomes.Enqueue("failed:decode");
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout);
                return;
            }

            await host.TurnAsync().WaitAsync(host._stop.Token);
            var payload = new Dictionary<string, object?>
            {
                ["Data"] = new Dictionary<string, object?> { [function.Binding] = item },
                ["Metadata"] = new Dictionary<string, object?>
                {
                    ["DequeueCount"] = message.DequeueCount,
                    ["ExpirationTime"] = message.ExpiresOn?.ToString("O", CultureInfo.InvariantCulture),
                    ["Id"] = message.MessageId,
                    ["InsertionTime"] = message.InsertedOn?.ToString("O", CultureInfo.InvariantCulture),
                    ["NextVisibleTime"] = message.NextVisibleOn?.ToString("O", CultureInfo.InvariantCulture),
                    ["PopReceipt"] = message.PopReceipt,
                    ["sys"] = new Dictionary<string, object?>
                    {
                        ["MethodName"] = function.Name,
                        ["UtcNow"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                        ["RandGuid"] = Guid.NewGuid().ToString(),
                    },
                },
            };
            host.Note($"message {message.MessageId[..8]}#{message.DequeueCount}: invoking on instance {index}");
            (int status, JsonDocument? reply) = await InvokeAsync(function.Name, JsonSerializer.Serialize(payload));
            reply?.Dispose();
            host.Note($"message {message.MessageId[..8]}#{message.DequeueCount}: answered {status}");
            if (status is >= 200 and <= 299)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout);
            }

            host.Note($"message {message.MessageId[..8]}#{message.DequeueCount}: settled");
        }

        /// <summary>Posts one invocation to the handler; restarts it when it died or ran past the function timeout. Status 0: no answer.</summary>
        public async Task<(int Status, JsonDocument? Reply)> InvokeAsync(string function, string payload)
        {
            if (!await TryStartAsync())
            {
                // The invocation fails (the message is settled as failed, an HTTP request answered 500), as the host's
                // does when its worker cannot start; it is not left leased until its visibility runs out.
                host._outcomes.Enqueue("init-failed");
                return (0, null);
            }

            Interlocked.Increment(ref host._invocations);
            if (payload.Contains("neutral:launch", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref host._launchers);
            }

            Interlocked.Increment(ref _running);
            Process process = _process!;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(host._stop.Token);
                timeout.CancelAfter(host.FunctionTimeout);
                using var content = new StringContent(payload, Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await _http.PostAsync(new Uri($"http://127.0.0.1:{_port}/{function}"), content, timeout.Token);
                string text = await response.Content.ReadAsStringAsync(timeout.Token);
                JsonDocument? reply = null;
                try
                {
                    reply = JsonDocument.Parse(text);
                    if (reply.RootElement.TryGetProperty("Logs", out JsonElement logs) && logs.ValueKind == JsonValueKind.Array)
                    {
                        foreach (JsonElement line in logs.EnumerateArray())
                        {
                            host._logs.Enqueue(line.GetString() ?? "");
                            host.Note($"instance {index} handler: {line.GetString()}");
                        }
                    }
                }
                catch (JsonException)
                {
                }

                host._outcomes.Enqueue(response.IsSuccessStatusCode ? "ok" : "failed:" + (int)response.StatusCode);
                return ((int)response.StatusCode, reply);
            }
            catch (OperationCanceledException) when (!host._stop.IsCancellationRequested)
            {
                // Past functionTimeout: the host fails the invocation and restarts the worker process.
                host._outcomes.Enqueue("timeout");
                host.Note($"instance {index}: invocation ran past the function timeout; handler killed");
                process.Kill(entireProcessTree: true);
                return (0, null);
            }
            catch (HttpRequestException e)
            {
                host.Note($"instance {index}: no answer from the handler: {e.Message}");
                host._outcomes.Enqueue("exited");
                return (0, null);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}
