using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>
/// The Lambda service side, as AWS's Invoke API and Runtime API documentation describe them (and AWS's Runtime Interface
/// Emulator implements the runtime side), in front of "sandboxes" that are real <c>bootstrap</c> processes.
/// <para>
/// Invoke: <c>POST /2015-03-31/functions/{name}/invocations</c> with a well-formed SigV4 <c>Authorization</c> for the
/// configured access key (403 otherwise), 404 <c>ResourceNotFoundException</c> for another function, 429
/// <c>TooManyRequestsException</c> above the concurrency limit; <c>X-Amz-Invocation-Type: Event</c> is answered 202
/// and queued, <c>RequestResponse</c> with the function's response (and <c>X-Amz-Function-Error</c> for an error).
/// </para>
/// <para>
/// Runtime: each sandbox has its own Runtime API endpoint (<c>AWS_LAMBDA_RUNTIME_API</c>) and runs one invocation at
/// a time: <c>GET /2018-06-01/runtime/invocation/next</c> gives the event with <c>Lambda-Runtime-Aws-Request-Id</c>,
/// <c>Lambda-Runtime-Deadline-Ms</c>, <c>Lambda-Runtime-Invoked-Function-Arn</c> and <c>Lambda-Runtime-Trace-Id</c>;
/// <c>POST .../invocation/{id}/response</c> or <c>/error</c> ends it (202); <c>POST /runtime/init/error</c> records a
/// failed start. A sandbox whose invocation passes its deadline is killed ("Task timed out"), one whose process dies is
/// restarted cold on its next invocation; warm ones are reused. On 127.0.0.1 only.
/// </para>
/// </summary>
public sealed partial class LambdaService : IAsyncDisposable
{
    private readonly HttpListener _invoke;
    private readonly HttpListener _inside;
    private int _launchers;
    private readonly Channel<Invocation> _queue = Channel.CreateUnbounded<Invocation>();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Sandbox> _sandboxes = [];
    private readonly List<Task> _loops = [];
    private readonly ConcurrentQueue<string> _outcomes = new();
    private readonly ConcurrentQueue<string> _initErrors = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private int _inFlight;
    private int _invocations;
    private int _throttled;
    private readonly QueueHold _hold = new();

    /// <summary>Starts the service with <paramref name="sandboxes"/> sandboxes running <paramref name="bootstrap"/> with <paramref name="environment"/>.</summary>
    /// <remarks>
    /// With a null <paramref name="bootstrap"/> there is no function until a <c>CreateFunction</c> request deploys one;
    /// its processes then get the function's variables and <paramref name="roleEnvironment"/> (the role's credentials
    /// and the region, as Lambda sets them).
    /// </remarks>
    public LambdaService(string? bootstrap, IReadOnlyDictionary<string, string> environment, string accessKeyId, string functionName = "neutral",
        int sandboxes = 2, int concurrencyLimit = 1000, IReadOnlyDictionary<string, string>? roleEnvironment = null)
    {
        Bootstrap = bootstrap;
        Environment = environment;
        RoleEnvironment = roleEnvironment ?? new Dictionary<string, string>();
        _function = bootstrap is null ? null : new FunctionState { Variables = environment.Where(e => !e.Key.StartsWith("AWS_", StringComparison.Ordinal)).ToDictionary() };
        AccessKeyId = accessKeyId;
        FunctionName = functionName;
        ConcurrencyLimit = concurrencyLimit;
        (_invoke, Endpoint) = Listen();
        (_inside, InsideEndpoint) = Listen();
        _loops.Add(Task.Run(AcceptInvokesAsync));
        _loops.Add(Task.Run(() => Loopback.ServeAsync(_inside, HandleInvokeAsync, _stop.Token)));
        for (int i = 0; i < sandboxes; i++)
        {
            var sandbox = new Sandbox(this, i);
            _sandboxes.Add(sandbox);
            _loops.Add(Task.Run(sandbox.RunAsync));
        }
    }

    /// <summary>The Invoke API's address (the client's <c>Aws:LambdaServiceUrl</c>), behind <see cref="ClientLatency"/>.</summary>
    public Uri Endpoint { get; }

    /// <summary>
    /// The same API as seen from inside the region, without <see cref="ClientLatency"/>: what a function's
    /// <c>AWS_ENDPOINT_URL_LAMBDA</c> names for its launcher calls (<c>Job:InvokeFrom=cloud</c>).
    /// </summary>
    public Uri InsideEndpoint { get; }

    /// <summary>A delay added before every request to <see cref="Endpoint"/> is handled: a client far from the region.</summary>
    public TimeSpan ClientLatency { get; set; }

    /// <summary>Invocations accepted whose event is a launcher call (<c>neutral:launch</c>).</summary>
    public int LauncherInvocations => Volatile.Read(ref _launchers);

    /// <summary>The executable each sandbox runs (null: no function deployed yet).</summary>
    public string? Bootstrap { get; set; }

    /// <summary>
    /// The function's variables (each sandbox adds the Runtime API's address and Lambda's own); set, they are also what
    /// the function's configuration reads answer, as after an <c>UpdateFunctionConfiguration</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get => _environment;
        set
        {
            _environment = value;
            if (_function is { } function)
            {
                function.Variables = value.Where(e => !e.Key.StartsWith("AWS_", StringComparison.Ordinal)).ToDictionary();
            }
        }
    }

    private IReadOnlyDictionary<string, string> _environment = null!;

    /// <summary>The access key whose signatures are accepted.</summary>
    public string AccessKeyId { get; }

    /// <summary>The one function this service has.</summary>
    public string FunctionName { get; }

    /// <summary>Invocations accepted and not finished above which invokes get 429.</summary>
    public int ConcurrencyLimit { get; set; }

    /// <summary>The function's timeout.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Invocations accepted.</summary>
    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>Invocations answered 429.</summary>
    public int Throttled => Volatile.Read(ref _throttled);

    /// <summary>How each finished invocation ended: <c>response</c>, <c>error:{type}</c>, <c>timeout</c>, <c>exited</c>, <c>init-error</c> (the process posted <c>/runtime/init/error</c> and exited before it took the event).</summary>
    public IReadOnlyCollection<string> Outcomes => _outcomes;

    /// <summary>The bodies of invocations that ended in an error (the runtime's error document, or the service's own).</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>The error types of <c>/runtime/init/error</c> posts.</summary>
    public IReadOnlyCollection<string> InitErrors => _initErrors;

    /// <summary>Invocations that ended.</summary>
    public int Completed => _outcomes.Count;

    /// <summary>Invocations running in a sandbox now.</summary>
    public int Running => _sandboxes.Count(s => s.Busy);

    /// <summary>The last event a runtime took: its payload, the Runtime API's headers with it, and when its invoke arrived.</summary>
    public (byte[] Payload, IReadOnlyDictionary<string, string> Headers, DateTimeOffset Received)? LastEvent { get; private set; }

    /// <summary>The last invoke request: path and query, its headers, its body.</summary>
    public (string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)? LastInvoke { get; private set; }

    /// <summary>
    /// Lets <paramref name="count"/> more queued invocations start, then holds the rest in the queue (as a function at
    /// its concurrency limit would hold them in Lambda's asynchronous queue) until <see cref="Release"/>.
    /// </summary>
    public void HoldAfter(int count) => _hold.HoldAfter(count);

    /// <summary>Ends <see cref="HoldAfter"/>: held invocations start.</summary>
    public void Release() => _hold.Release();

    /// <summary>Waits, with an invocation taken from the queue, until it may start.</summary>
    private Task TurnAsync() => _hold.TurnAsync();

    /// <summary>Kills the processes of the sandboxes running an invocation now (as an out-of-memory kill would).</summary>
    public int KillRunning() => _sandboxes.Count(s => s.Busy && s.Kill());

    private static (HttpListener, Uri) Listen() => Loopback.Listen();

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[a-z0-9-]+)/lambda/aws4_request, ?SignedHeaders=(?<signed>[a-z0-9;-]+), ?Signature=[0-9a-f]{64}$")]
    private static partial Regex SigV4();

    private Task AcceptInvokesAsync() => Loopback.ServeAsync(_invoke, async context =>
    {
        if (ClientLatency > TimeSpan.Zero)
        {
            await Task.Delay(ClientLatency);
        }

        await HandleInvokeAsync(context);
    }, _stop.Token);

    private async Task HandleInvokeAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        byte[] bytes;
        using (var buffer = new MemoryStream())
        {
            await request.InputStream.CopyToAsync(buffer);
            bytes = buffer.ToArray();
        }

        string body = Encoding.UTF8.GetString(bytes);
        var headers = request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
        LastInvoke = (request.Url!.PathAndQuery, headers, body);
        if (IsRuntimeInterfaceEmulator)
        {
            await HandleRieInvokeAsync(context, bytes);
            return;
        }

        Match signature = SigV4().Match(request.Headers["Authorization"] ?? "");
        if (!signature.Success || request.Headers["X-Amz-Date"] is null
            || !signature.Groups["signed"].Value.Split(';').Contains("host") || !signature.Groups["signed"].Value.Split(';').Contains("x-amz-date"))
        {
            await ReplyAsync(context, 403, "InvalidSignatureException", """{"message":"The request signature we calculated does not match the signature you provided."}""");
            return;
        }

        if (signature.Groups["key"].Value != AccessKeyId)
        {
            await ReplyAsync(context, 403, "UnrecognizedClientException", """{"message":"The security token included in the request is invalid."}""");
            return;
        }

        string[] path = request.Url.AbsolutePath.Trim('/').Split('/');
        if (await HandleControlPlaneAsync(context, path, body, signature.Groups["region"].Value))
        {
            return;
        }

        if (request.HttpMethod != "POST" || path.Length != 4 || path[0] != "2015-03-31" || path[1] != "functions" || path[3] != "invocations")
        {
            await ReplyAsync(context, 404, "UnknownOperationException", """{"message":"Unknown operation"}""");
            return;
        }

        if (Uri.UnescapeDataString(path[2]) != FunctionName || _function is null)
        {
            await ReplyAsync(context, 404, "ResourceNotFoundException",
                $$"""{"Type":"User","Message":"Function not found: arn:aws:lambda:{{signature.Groups["region"].Value}}:000000000000:function:{{Uri.UnescapeDataString(path[2])}}"}""");
            return;
        }

        if (_function.State != "Active")
        {
            await ReplyAsync(context, 409, "ResourceConflictException",
                $$"""{"Type":"User","message":"The operation cannot be performed at this time. The function is currently in the following state: {{_function.State}}"}""");
            return;
        }

        if (Interlocked.Increment(ref _inFlight) > ConcurrencyLimit)
        {
            Interlocked.Decrement(ref _inFlight);
            Interlocked.Increment(ref _throttled);
            await ReplyAsync(context, 429, "TooManyRequestsException",
                """{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}""");
            return;
        }

        string type = request.Headers["X-Amz-Invocation-Type"] ?? "RequestResponse";
        int limit = type == "Event" ? EventPayloadLimit : RequestResponsePayloadLimit;
        if (bytes.Length > limit)
        {
            Interlocked.Decrement(ref _inFlight);
            await ReplyAsync(context, 413, "RequestTooLargeException",
                $$"""{"Type":"User","message":"Request must be smaller than {{limit}} bytes for the InvokeFunction operation"}""");
            return;
        }

        Interlocked.Increment(ref _invocations);
        if (body.Contains("\"fn\":\"neutral:launch\"", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _launchers);
        }

        // An invoke without a payload gives the function an empty JSON object.
        var invocation = new Invocation(Guid.NewGuid().ToString(), bytes.Length == 0 ? "{}"u8.ToArray() : bytes, signature.Groups["region"].Value,
            request.Headers["X-Amzn-Trace-Id"], DateTimeOffset.UtcNow);
        _queue.Writer.TryWrite(invocation);
        if (type == "Event")
        {
            await ReplyAsync(context, 202, null, "");
            return;
        }

        var (_, payload, error) = await invocation.Done.Task;
        if (error is not null)
        {
            context.Response.Headers["X-Amz-Function-Error"] = "Unhandled";
        }

        context.Response.Headers["X-Amz-Executed-Version"] = "$LATEST";
        await ReplyAsync(context, 200, null, payload);
    }

    private static Task ReplyAsync(HttpListenerContext context, int status, string? errorType, string json)
    {
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        if (errorType is not null)
        {
            context.Response.Headers["x-amzn-ErrorType"] = errorType;
        }

        return Loopback.JsonAsync(context.Response, status, json);
    }

    private void Finished(string outcome)
    {
        _outcomes.Enqueue(outcome);
        Interlocked.Decrement(ref _inFlight);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (!_crashed)
        {
            _invoke.Stop();
            Loopback.CloseQuietly(_invoke);
            _inside.Stop();
            Loopback.CloseQuietly(_inside);
        }

        _queue.Writer.TryComplete();
        foreach (Sandbox sandbox in _sandboxes)
        {
            sandbox.Stop();
        }

        await Loopback.StopLoopsAsync(_loops.ToArray());

        _stop.Dispose();
        DeleteCodeFolders();
    }

    /// <summary>The largest <c>RequestResponse</c> payload Lambda takes (6 MB; 413 <c>RequestTooLargeException</c> above).</summary>
    public const int RequestResponsePayloadLimit = 6 * 1024 * 1024;

    /// <summary>The largest <c>Event</c> payload Lambda takes (1 MB).</summary>
    public const int EventPayloadLimit = 1024 * 1024;

    /// <summary>
    /// One event: its request id, payload, the invoke's trace header, when the invoke arrived, and the invoker's wait for
    /// its end (how it ended, the function's answer, the error document).
    /// </summary>
    private sealed record Invocation(string RequestId, byte[] Payload, string Region, string? TraceId, DateTimeOffset Received)
    {
        public TaskCompletionSource<(string Outcome, string Payload, string? Error)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the runtime took the event: the function's timeout counts from then (start-up has a limit of its own).</summary>
        public TaskCompletionSource<DateTimeOffset> Taken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>How long a sandbox may take to start and ask for its first event (Lambda's init phase limit).</summary>
    public static readonly TimeSpan InitLimit = TimeSpan.FromSeconds(10);

    /// <summary>A sandbox: a Runtime API endpoint of its own and the bootstrap process it serves, one invocation at a time.</summary>
    private sealed class Sandbox(LambdaService service, int index)
    {
        // Replaced with each new process: a killed idle process's pending next-invocation request must not take an event.
        private Channel<Invocation> _next = Channel.CreateBounded<Invocation>(1);
        private readonly Lock _lock = new();
        private HttpListener? _api;
        private Uri? _address;
        private Process? _process;
        private Invocation? _current;
        private TaskCompletionSource? _ended;
        private string? _initError;

        public bool Busy => Volatile.Read(ref _current) is not null;

        public bool Kill()
        {
            Process? process = _process;
            if (process is null || process.HasExited)
            {
                return false;
            }

            process.Kill(entireProcessTree: true);
            return true;
        }

        public void Stop()
        {
            Kill();
            _api?.Stop();
            Loopback.CloseQuietly(_api);
        }

        public async Task RunAsync()
        {
            (_api, _address) = Listen();
            _ = Task.Run(ServeRuntimeApiAsync);
            try
            {
                await foreach (Invocation invocation in service._queue.Reader.ReadAllAsync(service._stop.Token))
                {
                    await service.TurnAsync().WaitAsync(service._stop.Token);
                    // After a code or configuration update Lambda starts new execution environments.
                    if (_process is null || _process.HasExited || _generation != service.Generation)
                    {
                        Kill();
                        StartProcess();
                    }

                    var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    lock (_lock)
                    {
                        _ended = ended;
                        Volatile.Write(ref _current, invocation);
                    }

                    Channel<Invocation> next = _next;
                    await next.Writer.WriteAsync(invocation);
                    Process process = _process!;
                    Task exited = process.WaitForExitAsync();
                    Task first;
                    if (service.IsRuntimeInterfaceEmulator)
                    {
                        // The RIE has one clock: the timeout counts from the invoke, a cold start's init included.
                        TimeSpan left = invocation.Received + service.Timeout - DateTimeOffset.UtcNow;
                        first = await Task.WhenAny(ended.Task, exited, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero));
                    }
                    else
                    {
                        // Start-up (a cold process) has its own limit; the function's timeout counts from the event's hand-over.
                        first = await Task.WhenAny(ended.Task, exited, invocation.Taken.Task, Task.Delay(InitLimit));
                        if (first == invocation.Taken.Task)
                        {
                            TimeSpan left = invocation.Taken.Task.Result + service.Timeout - DateTimeOffset.UtcNow;
                            first = await Task.WhenAny(ended.Task, exited, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero));
                        }
                    }

                    if (first != ended.Task)
                    {
                        bool timedOut = first != exited;
                        if (timedOut)
                        {
                            process.Kill(entireProcessTree: true);
                        }

                        // The runtime never answered: drop the event it may not have taken, and end the invocation.
                        next.Reader.TryRead(out _);
                        if (!timedOut && !invocation.Taken.Task.IsCompleted && Volatile.Read(ref _initError) is { } initError)
                        {
                            // The process reported an init error and exited before it took the event.
                            service.InitFailed(initError);
                            End(invocation, "init-error", null, initError);
                            continue;
                        }

                        End(invocation, timedOut ? "timeout" : "exited", null,
                            timedOut ? $$"""{"errorMessage":"Task timed out after {{service.Timeout.TotalSeconds:0.00}} seconds"}""" : """{"errorType":"Runtime.ExitError","errorMessage":"Runtime exited with error: signal: killed"}""");
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private void End(Invocation invocation, string outcome, string? payload, string? error)
        {
            lock (_lock)
            {
                if (!ReferenceEquals(_current, invocation))
                {
                    return;
                }

                Volatile.Write(ref _current, null);
                _ended?.TrySetResult();
            }

            invocation.Done.TrySetResult((outcome, payload ?? error ?? "", error));
            if (error is not null)
            {
                service._errors.Enqueue(error);
            }

            service.Finished(outcome);
        }

        private int _generation;

        private void StartProcess()
        {
            _generation = service.Generation;
            Volatile.Write(ref _initError, null);
            _next = Channel.CreateBounded<Invocation>(1);
            string bootstrap = service.Bootstrap!;
            var info = new ProcessStartInfo(bootstrap)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(bootstrap)!,
            };
            info.Environment.Clear();
            foreach (var (name, value) in service.RoleEnvironment.Concat(service.Environment))
            {
                info.Environment[name] = value;
            }

            info.Environment["AWS_LAMBDA_RUNTIME_API"] = _address!.Authority;
            info.Environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
            if (service.IsRuntimeInterfaceEmulator)
            {
                // The RIE's defaults, and the credentials of its own environment (an unset session token is passed empty).
                info.Environment["AWS_LAMBDA_FUNCTION_NAME"] = RieFunctionName;
                info.Environment["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/Functions";
                info.Environment["AWS_LAMBDA_LOG_STREAM_NAME"] = "$LATEST";
                info.Environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "3008";
                info.Environment["AWS_SESSION_TOKEN"] = service.Environment.GetValueOrDefault("AWS_SESSION_TOKEN", "");
            }
            else
            {
                info.Environment["AWS_LAMBDA_FUNCTION_NAME"] = service.FunctionName;
                info.Environment["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + service.FunctionName;
                info.Environment["AWS_LAMBDA_LOG_STREAM_NAME"] = $"sandbox-{index}-{Guid.NewGuid():N}"[..24];
                info.Environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = service.MemoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            info.Environment["LAMBDA_TASK_ROOT"] = Path.GetDirectoryName(bootstrap)!;
            info.Environment["_HANDLER"] = "bootstrap";
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        private Task ServeRuntimeApiAsync() => Loopback.ServeAsync(_api!, HandleRuntimeAsync, service._stop.Token);

        private async Task HandleRuntimeAsync(HttpListenerContext context)
        {
            HttpListenerRequest request = context.Request;
            string body;
            using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
            {
                body = await reader.ReadToEndAsync();
            }

            string path = request.Url!.AbsolutePath;
            if (request.HttpMethod == "GET" && path == "/2018-06-01/runtime/invocation/next")
            {
                Invocation invocation;
                try
                {
                    Channel<Invocation> next = Volatile.Read(ref _next);
                    invocation = await next.Reader.ReadAsync(service._stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                DateTimeOffset now = DateTimeOffset.UtcNow;
                long deadline = (service.IsRuntimeInterfaceEmulator ? invocation.Received : now).Add(service.Timeout).ToUnixTimeMilliseconds();
                invocation.Taken.TrySetResult(now);
                context.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId;
                context.Response.Headers["Lambda-Runtime-Deadline-Ms"] = deadline.ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.Response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = $"arn:aws:lambda:{invocation.Region}:000000000000:function:{service.FunctionName}";
                // Lambda always traces (passively); the RIE passes on the invoke's trace header, or none.
                string? trace = invocation.TraceId
                    ?? (service.IsRuntimeInterfaceEmulator ? null : $"Root=1-{DateTimeOffset.UtcNow.ToUnixTimeSeconds():x8}-{Guid.NewGuid():N}"[..40] + ";Sampled=0");
                if (trace is not null)
                {
                    context.Response.Headers["Lambda-Runtime-Trace-Id"] = trace;
                }

                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                service.LastEvent = (invocation.Payload, context.Response.Headers.AllKeys.ToDictionary(k => k!, k => context.Response.Headers[k]!, StringComparer.OrdinalIgnoreCase), invocation.Received);
                context.Response.ContentLength64 = invocation.Payload.Length;
                await context.Response.OutputStream.WriteAsync(invocation.Payload);
                context.Response.Close();
                return;
            }

            string[] parts = path.Trim('/').Split('/');
            if (request.HttpMethod == "POST" && parts.Length == 5 && parts[2] == "invocation" && parts[4] is "response" or "error")
            {
                Invocation? current = Volatile.Read(ref _current);
                if (current is null || current.RequestId != parts[3])
                {
                    await ReplyAsync(context, 403, "InvalidStateTransition", """{"errorMessage":"State transition from Ready to InvocationResponse failed for runtime.","errorType":"InvalidStateTransition"}""");
                    return;
                }

                await ReplyAsync(context, 202, null, """{"status":"OK"}""");
                End(current, parts[4] == "response" ? "response" : "error:" + (request.Headers["Lambda-Runtime-Function-Error-Type"] ?? "Unhandled"),
                    parts[4] == "response" ? body : null, parts[4] == "error" ? body : null);
                return;
            }

            if (request.HttpMethod == "POST" && path == "/2018-06-01/runtime/init/error")
            {
                await ReplyAsync(context, 202, null, """{"status":"OK"}""");
                Volatile.Write(ref _initError, body);
                service._initErrors.Enqueue(request.Headers["Lambda-Runtime-Function-Error-Type"] ?? "Unknown");
                return;
            }

            await ReplyAsync(context, 404, null, """{"errorMessage":"not found","errorType":"NotFound"}""");
        }
    }
}
