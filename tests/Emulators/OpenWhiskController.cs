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
/// "containers" that are <see cref="OpenWhiskActionProxy"/> instances, driven as the invoker drives them (its
/// ContainerProxy): a cold container gets <c>/init</c> (with the action's init parameters and the first activation's
/// <c>__OW_*</c> context as its environment), every activation a <c>/run</c> with <c>value</c>, <c>namespace</c>,
/// <c>action_name</c> (<c>/ns/name</c>), <c>action_version</c>, <c>activation_id</c>, <c>transaction_id</c>,
/// <c>deadline</c>, and the namespace key as <c>api_key</c> unless the action is annotated <c>provide-api-key</c> with a
/// falsy value; a container whose <c>/init</c> or <c>/run</c> failed (not 200, or past the time limit) is destroyed,
/// and later activations get a fresh one:
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
    private readonly ConcurrentDictionary<OpenWhiskActionProxy, byte> _containers = new();
    private readonly IReadOnlyDictionary<string, string> _containerEnvironment;
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _activationLogs = new(StringComparer.Ordinal);
    private int _coldStarts;
    private int _destroyed;
    private int _inFlight;
    private int _invocations;
    private int _throttled;

    /// <summary>An action created with PUT: its zip, the init parameters (passed to <c>/init</c> as its environment), its annotations.</summary>
    private sealed record Deployed(byte[] Zip, Dictionary<string, string> Environment, string Annotations);

    /// <summary>What the invoker sends <c>/run</c> and <c>/init</c> for one activation.</summary>
    private sealed record Activation(string Id, string RunBody, Dictionary<string, string> InitContext);

    private readonly ConcurrentDictionary<OpenWhiskActionProxy, byte> _busy = new();

    /// <summary>
    /// Starts the controller and <paramref name="containers"/> container loops (each starts its process on first use):
    /// with <paramref name="exec"/>, an action already there (without annotations but <see cref="Tables"/>); without,
    /// one must be created with PUT first. <paramref name="waitForAck"/>: whether the containers' proxies have
    /// <c>OW_WAIT_FOR_ACK</c> (the Go images do; the generic actionloop image may not).
    /// </summary>
    public OpenWhiskController(string? exec, IReadOnlyDictionary<string, string>? environment, string workingDirectory, string authKey,
        string action = "neutral", int containers = 2, int concurrencyLimit = 100, bool waitForAck = true)
    {
        _exec = exec;
        _environment = environment;
        _workingDirectory = workingDirectory;
        AuthKey = authKey;
        Action = action;
        ConcurrencyLimit = concurrencyLimit;
        WaitsForAck = waitForAck;
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
                Loopback.CloseQuietly(listener);
            }
        }

        // The invoker starts action containers with __OW_API_HOST; the proxy passes every __OW_* variable on.
        var container = new Dictionary<string, string>(waitForAck ? OpenWhiskActionProxy.WithAck : OpenWhiskActionProxy.WithoutAck, StringComparer.Ordinal)
        {
            ["__OW_API_HOST"] = ApiHost.ToString().TrimEnd('/'),
        };
        _containerEnvironment = container;
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

    /// <summary>Invocations accepted whose parameters are a launcher call (<c>neutral:launch</c>, <c>Job:InvokeFrom=cloud</c>).</summary>
    public int LauncherInvocations => Volatile.Read(ref _launchers);

    private int _launchers;

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

    /// <summary>Whether the containers' proxies wait for the action's acknowledgement.</summary>
    public bool WaitsForAck { get; }

    /// <summary>Containers started (each one cold: a new proxy, <c>/init</c>).</summary>
    public int ColdStarts => Volatile.Read(ref _coldStarts);

    /// <summary>Containers destroyed after a failed <c>/init</c> or <c>/run</c>.</summary>
    public int Destroyed => Volatile.Read(ref _destroyed);

    /// <summary>The last <c>/run</c> body sent to a container.</summary>
    public string? LastRun { get; private set; }

    /// <summary>The environment of the last <c>/init</c> (init parameters and the invoker's <c>__OW_*</c> context).</summary>
    public IReadOnlyDictionary<string, string>? LastInitEnvironment { get; private set; }

    /// <summary>The log lines of each ended activation, by activation id, as its record holds them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ActivationLogs => _activationLogs;

    /// <summary>The activation records so far (JSON, as <c>GET .../activations/{id}</c> answers them).</summary>
    public IReadOnlyCollection<string> Records => _activations.Values.ToArray();

    /// <summary>
    /// Kills the <c>exec</c> of the containers running an activation now (as an out-of-memory kill of the action's
    /// process would); the proxy answers the activation 400 "command exited", and the container is destroyed.
    /// </summary>
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
    /// Kills the <c>exec</c> of the live containers not running an activation, and waits for them to exit: each
    /// one's next activation gets the proxy's 500 "command exited", and the container is destroyed.
    /// </summary>
    public async Task<int> KillIdleAsync()
    {
        int killed = 0;
        foreach (OpenWhiskActionProxy container in _containers.Keys)
        {
            if (!_busy.ContainsKey(container) && !container.Exited)
            {
                await container.KillAsync().ConfigureAwait(false);
                killed++;
            }
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

    private Task AcceptAsync() => Loopback.ServeAsync(_listener, HandleAsync, _stop.Token);

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
            if (body.Contains("\"fn\":\"neutral:launch\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _launchers);
            }

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
                _ = ProvidesApiKey(annotations); // malformed annotations are refused here, not at the first activation
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

    private static Task ReplyAsync(HttpListenerContext context, int status, string json) => Loopback.JsonAsync(context.Response, status, json);

    /// <summary>
    /// Whether the invoker hands the namespace key to the action: yes unless <c>provide-api-key</c> is there with a
    /// falsy value (false, 0, null or an empty string), as OpenWhisk's <c>isTruthy(..., valueForNonExistent = true)</c>.
    /// </summary>
    private static bool ProvidesApiKey(string annotations)
    {
        using JsonDocument json = JsonDocument.Parse(annotations);
        foreach (JsonElement annotation in json.RootElement.EnumerateArray())
        {
            if (annotation.GetProperty("key").GetString() == "provide-api-key")
            {
                JsonElement value = annotation.GetProperty("value");
                return value.ValueKind switch
                {
                    JsonValueKind.False or JsonValueKind.Null or JsonValueKind.Undefined => false,
                    JsonValueKind.Number => value.GetDouble() != 0,
                    JsonValueKind.String => value.GetString()!.Length > 0,
                    _ => true,
                };
            }
        }

        return true;
    }

    /// <summary>The invoker's <c>/run</c> body and <c>/init</c> context for one activation.</summary>
    private Activation Prepare(string id, string transaction, string parameters, DateTimeOffset deadline)
    {
        var context = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["namespace"] = "guest",
            ["action_name"] = "/guest/" + Action,
            ["action_version"] = "0.0.1",
            ["activation_id"] = id,
            ["transaction_id"] = transaction,
            ["deadline"] = deadline.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (ProvidesApiKey(_deployed?.Annotations ?? "[]"))
        {
            context["api_key"] = AuthKey;
        }

        var body = new StringBuilder("{\"value\":").Append(parameters);
        foreach (var (key, value) in context)
        {
            body.Append(',').Append(JsonSerializer.Serialize(key)).Append(':').Append(JsonSerializer.Serialize(value));
        }

        var init = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in context)
        {
            init["__OW_" + key.ToUpperInvariant()] = value;
        }

        return new Activation(id, body.Append('}').ToString(), init);
    }

    /// <summary>
    /// One container slot, as the invoker's ContainerProxy: a cold container is started and initialized for its first
    /// activation, reused warm while its activations succeed, and destroyed after any failure (the proxy never
    /// restarts a dead <c>exec</c>); the next activation then starts a fresh one.
    /// </summary>
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
            bool destroy = false;
            try
            {
                // The invoker computes the deadline twice: for /init's context, and again when it sends /run.
                string transaction = Guid.NewGuid().ToString("N");
                Activation activation = Prepare(id, transaction, parameters, start + limit);
                if (container is null)
                {
                    string folder = Path.Combine(_workingDirectory, "containers", Guid.NewGuid().ToString("N")[..8]);
                    Directory.CreateDirectory(folder);
                    container = new OpenWhiskActionProxy(folder, _containerEnvironment);
                    _containers[container] = 0;
                    Interlocked.Increment(ref _coldStarts);
                    var (exec, environment) = Init(folder);
                    var initEnvironment = new Dictionary<string, string>(environment, StringComparer.Ordinal);
                    foreach (var (key, value) in activation.InitContext)
                    {
                        initEnvironment[key] = value;
                    }

                    LastInitEnvironment = initEnvironment;
                    ProxyReply init = await container.InitAsync(exec, initEnvironment, limit).ConfigureAwait(false);
                    if (!init.Ok)
                    {
                        throw new ActivationFailed(init.Error ?? "The action failed to initialize: " + init.Body);
                    }
                }

                // As the invoker does, /init has a limit of its own and the run's time limit counts from /run.
                runStart = DateTimeOffset.UtcNow;
                activation = Prepare(id, transaction, parameters, runStart + limit);
                LastRun = activation.RunBody;
                _busy[container] = 0;
                ProxyReply reply = await container.RunAsync(activation.RunBody, limit).ConfigureAwait(false);
                if (!reply.Ok)
                {
                    // Any answer but 200 is the container's failure: its error text goes in the record.
                    throw new ActivationFailed(reply.Error ?? "The action did not produce a valid response: " + reply.Body);
                }

                result = reply.Body;
                using JsonDocument json = JsonDocument.Parse(result);
                // As the invoker records it: an object with "error" is an application error, anything else a success.
                status = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out _) ? "application error" : "success";
            }
            catch (Exception e) when (e is ActivationFailed or TimeoutException or InvalidOperationException or JsonException or IOException)
            {
                // The invoker's own messages (OpenWhisk's Messages.timedoutActivation and abnormalRun), or the proxy's.
                string message = e is TimeoutException ? $"The action exceeded its time limits of {(long)limit.TotalMilliseconds} milliseconds."
                    : e is ActivationFailed failed ? failed.Message
                    : "The action did not produce a valid response and exited unexpectedly.";
                result = JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message });
                status = "action developer error";
                destroy = true;
            }
            finally
            {
                if (container is not null)
                {
                    _busy.TryRemove(container, out _);
                }

                Interlocked.Decrement(ref _inFlight);
            }

            IReadOnlyList<string> logs = container?.TakeActivationLogs() ?? [];
            _activationLogs[id] = logs;
            if (destroy && container is not null)
            {
                _containers.TryRemove(container, out _);
                await container.DisposeAsync().ConfigureAwait(false);
                Interlocked.Increment(ref _destroyed);
                container = null;
            }

            DateTimeOffset end = DateTimeOffset.UtcNow;
            _activations[id] = $$"""{"namespace":"guest","name":"{{Action}}","version":"0.0.1","activationId":"{{id}}","start":{{start.ToUnixTimeMilliseconds()}},"end":{{end.ToUnixTimeMilliseconds()}},"duration":{{(long)(end - start).TotalMilliseconds}},"response":{"status":"{{status}}","success":{{(status == "success" ? "true" : "false")}},"result":{{result}}},"logs":{{JsonSerializer.Serialize(logs)}},"annotations":[],"publish":false}""";
        }
    }

    /// <summary>A non-200 answer from the container's proxy: the activation is a developer error, the container is destroyed.</summary>
    private sealed class ActivationFailed(string message) : Exception(message);

    /// <summary>
    /// What <c>/init</c> does with the deployed action: unzips its code where the proxy keeps actions
    /// (<c>action/1/bin</c> under its working directory) and runs its <c>exec</c> with the init parameters as the
    /// environment. Without a deployed action, the one given at start.
    /// </summary>
    private (string Exec, IReadOnlyDictionary<string, string> Environment) Init(string containerFolder)
    {
        if (_deployed is { } deployed)
        {
            string folder = Path.Combine(containerFolder, "action", "1", "bin");
            Directory.CreateDirectory(folder);
            System.IO.Compression.ZipFile.ExtractToDirectory(new MemoryStream(deployed.Zip), folder);

            string exec = Path.Combine(folder, "exec");
            if (!File.Exists(exec))
            {
                throw new ActivationFailed("cannot start action: the action's zip has no exec at its root.");
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
        Loopback.CloseQuietly(_listener);
        _queue.Writer.TryComplete();
        // A container slot waiting for an activation sees the queue completed or the stop, whichever comes first.
        await Loopback.StopLoopsAsync(_loops.ToArray());

        foreach (OpenWhiskActionProxy container in _containers.Keys)
        {
            await container.DisposeAsync();
        }

        _stop.Dispose();
    }
}
