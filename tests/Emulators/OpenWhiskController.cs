using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>
/// The controller side of OpenWhisk's REST API, as the public API documentation describes it, in front of warm
/// "containers" that are <see cref="OpenWhiskActionProxy"/> processes (as the invoker keeps action containers warm):
/// <c>POST /api/v1/namespaces/{ns}/actions/{action}?blocking=false</c> with HTTP Basic auth (401 otherwise, 404 for an
/// unknown action) answers <c>202 {"activationId"}</c>, or <c>429</c> when the namespace's concurrency limit is reached;
/// <c>GET /api/v1/namespaces/{ns}/activations/{id}</c> answers the activation record. On 127.0.0.1 only.
/// </summary>
public sealed class OpenWhiskController : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly string? _exec;
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private volatile Deployed? _deployed;
    private readonly string _workingDirectory;
    private readonly Channel<(string Id, string Parameters)> _queue = Channel.CreateUnbounded<(string, string)>();
    private readonly ConcurrentDictionary<string, string> _activations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly ConcurrentBag<OpenWhiskActionProxy> _containers = [];
    private int _inFlight;
    private int _invocations;
    private int _throttled;

    /// <summary>An action created with PUT: its zip, the init parameters (passed to <c>/init</c> as its environment), its annotations.</summary>
    private sealed record Deployed(byte[] Zip, Dictionary<string, string> Environment, string Annotations);

    private readonly ConcurrentDictionary<OpenWhiskActionProxy, byte> _busy = new();

    /// <summary>
    /// Starts the controller and <paramref name="containers"/> container loops (each starts its process on first use):
    /// with <paramref name="exec"/>, an action already there; without, one must be created with PUT first.
    /// </summary>
    public OpenWhiskController(string? exec, IReadOnlyDictionary<string, string>? environment, string workingDirectory, string authKey,
        string action = "neutral", int containers = 2, int concurrencyLimit = 100)
    {
        _exec = exec;
        _environment = environment;
        _workingDirectory = workingDirectory;
        AuthKey = authKey;
        Action = action;
        ConcurrencyLimit = concurrencyLimit;
        // A free port can be taken between the probe and the listener's start (tests run in parallel): try again.
        for (int attempt = 1; ; attempt++)
        {
            ApiHost = new Uri($"http://127.0.0.1:{FreePort()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(ApiHost.ToString());
            try
            {
                listener.Start();
                _listener = listener;
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }

        _loops.Add(Task.Run(AcceptAsync));
        for (int i = 0; i < containers; i++)
        {
            _loops.Add(Task.Run(ContainerAsync));
        }
    }

    /// <summary>Where the API is.</summary>
    public Uri ApiHost { get; }

    /// <summary>The key the namespace accepts (<c>uuid:key</c>).</summary>
    public string AuthKey { get; }

    /// <summary>The action name it knows.</summary>
    public string Action { get; }

    /// <summary>Activations accepted and not finished above which invokes get 429.</summary>
    public int ConcurrencyLimit { get; set; }

    /// <summary>Invocations accepted.</summary>
    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>Invocations answered 429.</summary>
    public int Throttled => Volatile.Read(ref _throttled);

    /// <summary>
    /// The <c>neutral-tables</c> annotation of the action given at start (function id to signature hash), answered by
    /// <c>GET .../actions/{name}</c>; null: the action has no annotations. An action created with PUT has its own.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Tables { get; set; }

    /// <summary>The action's time limit (an action created with PUT: its <c>limits.timeout</c>). Past it the container is killed.</summary>
    public TimeSpan TimeLimit { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Action reads (<c>GET .../actions/{name}</c>) answered.</summary>
    public int ActionReads => Volatile.Read(ref _actionReads);

    private int _actionReads;

    /// <summary>Kills the processes of the containers running an activation now (as an out-of-memory kill or a node failure would).</summary>
    public int KillRunning()
    {
        int killed = 0;
        foreach (OpenWhiskActionProxy container in _busy.Keys)
        {
            container.Kill();
            killed++;
        }

        return killed;
    }

    /// <summary>
    /// Lets the containers start only <paramref name="activations"/> more activations; the rest stay queued until
    /// <see cref="Release"/> (as a busy cluster's queue would hold them). For tests that must act while calls are queued.
    /// </summary>
    public void HoldAfter(int activations)
    {
        lock (_holdLock)
        {
            _startsLeft = activations;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Lets queued activations start again after <see cref="HoldAfter"/>.</summary>
    public void Release()
    {
        lock (_holdLock)
        {
            _startsLeft = int.MaxValue;
            _released.TrySetResult();
        }
    }

    private readonly object _holdLock = new();
    private int _startsLeft = int.MaxValue;
    private TaskCompletionSource _released = CompletedSource();

    private static TaskCompletionSource CompletedSource()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    /// <summary>Waits until this container may start one more activation, and counts it.</summary>
    private async Task MayStartAsync()
    {
        while (true)
        {
            Task wait;
            lock (_holdLock)
            {
                if (_startsLeft > 0)
                {
                    if (_startsLeft != int.MaxValue)
                    {
                        _startsLeft--;
                    }

                    return;
                }

                wait = _released.Task;
            }

            await wait.WaitAsync(_stop.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Activations that ended and have a record.</summary>
    public int Completed => _activations.Count;

    /// <summary>Activations running in a container now.</summary>
    public int Running => _busy.Count;

    /// <summary>The last action create-or-update request: path and query, and its JSON body.</summary>
    public (string PathAndQuery, string Body)? LastPut { get; private set; }

    /// <summary>The last invoke request as received: method, path and query, headers, body.</summary>
    public (string Method, string PathAndQuery, string? Authorization, string? ContentType, string Body)? LastInvoke { get; private set; }

    private static int FreePort() => Loopback.FreePort();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        string[] path = request.Url!.AbsolutePath.Trim('/').Split('/');
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(AuthKey));
        if (request.Headers["Authorization"] != expected)
        {
            await ReplyAsync(context, 401, """{"error":"The supplied authentication is invalid.","code":"emulated"}""");
            return;
        }

        // api/v1/namespaces/{ns}/actions/{action} and api/v1/namespaces/{ns}/activations/{id}
        if (path.Length == 6 && path[0] == "api" && path[1] == "v1" && path[2] == "namespaces" && path[4] == "actions" && request.HttpMethod == "POST")
        {
            LastInvoke = (request.HttpMethod, request.Url.PathAndQuery, request.Headers["Authorization"], request.ContentType, body);
            if (Uri.UnescapeDataString(path[5]) != Action || (_exec is null && _deployed is null))
            {
                await ReplyAsync(context, 404, """{"error":"The requested resource does not exist.","code":"emulated"}""");
                return;
            }

            if (Interlocked.Increment(ref _inFlight) > ConcurrencyLimit)
            {
                Interlocked.Decrement(ref _inFlight);
                Interlocked.Increment(ref _throttled);
                context.Response.Headers["Retry-After"] = "1";
                await ReplyAsync(context, 429, """{"error":"Too many concurrent requests in flight (count: 1, allowed: 1).","code":"emulated"}""");
                return;
            }

            Interlocked.Increment(ref _invocations);
            string id = Guid.NewGuid().ToString("N");
            _queue.Writer.TryWrite((id, body.Length == 0 ? "{}" : body));
            await ReplyAsync(context, 202, $$"""{"activationId":"{{id}}"}""");
            return;
        }

        if (path.Length == 6 && path[0] == "api" && path[4] == "actions" && request.HttpMethod == "PUT")
        {
            LastPut = (request.Url.PathAndQuery, body);
            if (Uri.UnescapeDataString(path[5]) != Action)
            {
                await ReplyAsync(context, 403, """{"error":"The emulator hosts one action name.","code":"emulated"}""");
                return;
            }

            if (_deployed is not null && request.QueryString["overwrite"] != "true")
            {
                await ReplyAsync(context, 409, """{"error":"resource already exists","code":"emulated"}""");
                return;
            }

            try
            {
                using JsonDocument action = JsonDocument.Parse(body);
                JsonElement exec = action.RootElement.GetProperty("exec");
                byte[] zip = Convert.FromBase64String(exec.GetProperty("code").GetString()!);
                var environment = new Dictionary<string, string>(StringComparer.Ordinal);
                if (action.RootElement.TryGetProperty("parameters", out JsonElement parameters))
                {
                    foreach (JsonElement parameter in parameters.EnumerateArray())
                    {
                        if (parameter.TryGetProperty("init", out JsonElement init) && init.GetBoolean())
                        {
                            environment[parameter.GetProperty("key").GetString()!] = parameter.GetProperty("value").GetString()!;
                        }
                    }
                }

                if (action.RootElement.TryGetProperty("limits", out JsonElement limits) && limits.TryGetProperty("timeout", out JsonElement timeout))
                {
                    TimeLimit = TimeSpan.FromMilliseconds(timeout.GetInt32());
                }

                string annotations = action.RootElement.TryGetProperty("annotations", out JsonElement a) ? a.GetRawText() : "[]";
                _deployed = new Deployed(zip, environment, annotations);
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                await ReplyAsync(context, 400, JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = "malformed action: " + e.Message }));
                return;
            }

            await ReplyAsync(context, 200, $$"""{"name":"{{Action}}","namespace":"guest","version":"0.0.1"}""");
            return;
        }

        if (path.Length == 6 && path[4] == "actions" && request.HttpMethod == "GET")
        {
            Interlocked.Increment(ref _actionReads);
            if (Uri.UnescapeDataString(path[5]) != Action || (_exec is null && _deployed is null))
            {
                await ReplyAsync(context, 404, """{"error":"The requested resource does not exist.","code":"emulated"}""");
                return;
            }

            string annotations = _deployed?.Annotations
                ?? (Tables is { } tables ? "[{\"key\":\"neutral-tables\",\"value\":" + JsonSerializer.Serialize(tables) + "}]" : "[]");
            await ReplyAsync(context, 200, $$"""{"namespace":"guest","name":"{{Action}}","version":"0.0.1","exec":{"kind":"blackbox","binary":true},"limits":{"timeout":{{(long)TimeLimit.TotalMilliseconds}},"memory":256,"concurrency":1},"annotations":{{annotations}},"publish":false}""");
            return;
        }

        if (path.Length == 6 && path[4] == "activations" && request.HttpMethod == "GET")
        {
            await (_activations.TryGetValue(path[5], out string? record)
                ? ReplyAsync(context, 200, record)
                : ReplyAsync(context, 404, """{"error":"The requested resource does not exist.","code":"emulated"}"""));
            return;
        }

        await ReplyAsync(context, 404, """{"error":"The requested resource does not exist.","code":"emulated"}""");
    }

    private static async Task ReplyAsync(HttpListenerContext context, int status, string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    /// <summary>One warm container: its process starts on first use and again after it dies.</summary>
    private async Task ContainerAsync()
    {
        OpenWhiskActionProxy? container = null;
        while (true)
        {
            var (id, parameters) = await _queue.Reader.ReadAsync(_stop.Token).ConfigureAwait(false);
            await MayStartAsync().ConfigureAwait(false);
            string result;
            string status;
            DateTimeOffset start = DateTimeOffset.UtcNow;
            DateTimeOffset runStart = start;
            TimeSpan limit = TimeLimit;
            try
            {
                if (container is null || container.Exited)
                {
                    var (exec, environment) = Init();
                    container = await OpenWhiskActionProxy.StartAsync(exec, environment, _workingDirectory, waitForAck: true, TimeSpan.FromSeconds(60));
                    _containers.Add(container);
                }

                // As the invoker does, /init has a limit of its own and the run's time limit counts from /run.
                runStart = DateTimeOffset.UtcNow;
                string activation = $$"""{"value":{{parameters}},"namespace":"guest","action_name":"{{Action}}","activation_id":"{{id}}","deadline":"{{(runStart + limit).ToUnixTimeMilliseconds()}}"}""";
                _busy[container] = 0;
                result = await container.RunAsync(activation, limit);
                using JsonDocument reply = JsonDocument.Parse(result);
                // As the invoker records it: an object with "error" is an application error, anything else a success.
                status = reply.RootElement.ValueKind != JsonValueKind.Object ? "action developer error"
                    : reply.RootElement.TryGetProperty("error", out _) ? "application error" : "success";
                if (status == "action developer error")
                {
                    result = JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = "The action did not produce a valid JSON response: " + result });
                }
            }
            catch (Exception e) when (e is InvalidOperationException or JsonException or IOException)
            {
                // The invoker's own messages (OpenWhisk's Messages.abnormalRun and timedoutActivation).
                // The limit first: a container stopped at its limit has exited too by the time this runs (and the timer
                // that ended the wait may fire a moment before the wall clock shows the limit reached).
                string message = DateTimeOffset.UtcNow - runStart >= limit - TimeSpan.FromMilliseconds(50) ? $"The action exceeded its time limits of {(long)limit.TotalMilliseconds} milliseconds."
                    : container is { Exited: true } ? "The action did not produce a valid response and exited unexpectedly."
                    : "The action did not produce a valid JSON response: " + e.Message;
                if (container is { Exited: false })
                {
                    container.Kill(); // a timed-out container is destroyed, not reused
                }

                result = JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message });
                status = "action developer error";
            }
            finally
            {
                if (container is not null)
                {
                    _busy.TryRemove(container, out _);
                }

                Interlocked.Decrement(ref _inFlight);
            }

            DateTimeOffset end = DateTimeOffset.UtcNow;
            _activations[id] = $$"""{"namespace":"guest","name":"{{Action}}","version":"0.0.1","activationId":"{{id}}","start":{{start.ToUnixTimeMilliseconds()}},"end":{{end.ToUnixTimeMilliseconds()}},"duration":{{(long)(end - start).TotalMilliseconds}},"response":{"status":"{{status}}","success":{{(status == "success" ? "true" : "false")}},"result":{{result}}},"logs":[],"annotations":[],"publish":false}""";
        }
    }

    /// <summary>
    /// What <c>/init</c> does with the deployed action: unzips its code into a folder of the container's own and runs
    /// its <c>exec</c> with the init parameters as the environment. Without a deployed action, the one given at start.
    /// </summary>
    private (string Exec, IReadOnlyDictionary<string, string> Environment) Init()
    {
        if (_deployed is { } deployed)
        {
            string folder = Path.Combine(_workingDirectory, "containers", Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(folder);
            System.IO.Compression.ZipFile.ExtractToDirectory(new MemoryStream(deployed.Zip), folder);

            string exec = Path.Combine(folder, "exec");
            if (!File.Exists(exec))
            {
                throw new InvalidOperationException("The action's zip has no exec at its root.");
            }

            return (exec, deployed.Environment);
        }

        return (_exec!, _environment!);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loops.ToArray()).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }

        foreach (OpenWhiskActionProxy container in _containers.Distinct())
        {
            await container.DisposeAsync();
        }

        _stop.Dispose();
    }
}
