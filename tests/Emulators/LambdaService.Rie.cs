using System;
using System.Collections.Generic;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>
/// The service as AWS's Lambda Runtime Interface Emulator (aws-lambda-runtime-interface-emulator, read at commit 4fa2157)
/// behaves where it differs from Lambda, for tests of what users meet when they try their function under it locally.
/// </summary>
/// <remarks>
/// One sandbox, serving one invocation at a time at <c>/2015-03-31/functions/function/invocations</c> (any other path:
/// 404), with no signature check. A second invoke while one runs takes the whole emulator down (its listener is gone:
/// later connections are refused). <c>X-Amz-Invocation-Type</c> is ignored: every invoke waits for its call. Answers are
/// 200 <c>text/plain</c> with the function's bytes, without <c>X-Amz-Function-Error</c>, <c>X-Amz-Executed-Version</c>
/// or <c>x-amzn-RequestId</c>; a call past the timeout is killed and answered "Task timed out after N.00 seconds"; an init
/// failure makes this and every later invoke 502. The deadline counts from the invoke (init included); an empty body
/// reaches the runtime empty and one over <see cref="RiePayloadLimit"/> is cut there; the runtime gets a trace id only
/// when the invoke has one; the environment has the RIE's defaults (function <c>test_function</c>, log group
/// <c>/aws/lambda/Functions</c>, stream <c>$LATEST</c>, 3008 MB) and an empty <c>AWS_SESSION_TOKEN</c> when none is set.
/// </remarks>
public sealed partial class LambdaService
{
    /// <summary>The function name the RIE gives the runtime.</summary>
    public const string RieFunctionName = "test_function";

    /// <summary>The RIE's invoke path: the function is always called <c>function</c>.</summary>
    public const string RieInvokePath = "/2015-03-31/functions/function/invocations";

    /// <summary>Where the RIE cuts an event: 6 MiB and 100 bytes.</summary>
    public const int RiePayloadLimit = 6 * 1024 * 1024 + 100;

    private int _rieBusy;
    private string? _rieInitError;
    private volatile bool _crashed;

    /// <summary>Whether this service behaves as the Runtime Interface Emulator (<see cref="StartRuntimeInterfaceEmulator"/>).</summary>
    public bool IsRuntimeInterfaceEmulator { get; private init; }

    /// <summary>Whether an overlapping invoke took the RIE down (nothing listens at <see cref="Endpoint"/> any more).</summary>
    public bool Crashed => _crashed;

    /// <summary>
    /// Starts a Runtime Interface Emulator running <paramref name="bootstrap"/> with <paramref name="environment"/> (the
    /// RIE passes its own environment on) and a function timeout of <paramref name="timeout"/>
    /// (<c>AWS_LAMBDA_FUNCTION_TIMEOUT</c>, whole seconds; 300 by default).
    /// </summary>
    public static LambdaService StartRuntimeInterfaceEmulator(string bootstrap, IReadOnlyDictionary<string, string> environment, TimeSpan? timeout = null)
    {
        var service = new LambdaService(bootstrap, environment, accessKeyId: "", functionName: "function", sandboxes: 1) { IsRuntimeInterfaceEmulator = true };
        service.Timeout = TimeSpan.FromSeconds(Math.Ceiling((timeout ?? TimeSpan.FromSeconds(300)).TotalSeconds));
        return service;
    }

    private async Task HandleRieInvokeAsync(HttpListenerContext context, byte[] body)
    {
        try
        {
            if (context.Request.Url!.AbsolutePath != RieInvokePath)
            {
                await ReplyRieAsync(context, 404, "404 page not found\n");
                return;
            }

            if (Volatile.Read(ref _rieInitError) is { } initError)
            {
                await ReplyRieAsync(context, 502, initError);
                return;
            }

            if (Interlocked.Exchange(ref _rieBusy, 1) == 1)
            {
                // The RIE reserves its one sandbox per invoke; a second reservation fails and the process dies with it.
                Crash();
                return;
            }

            try
            {
                Interlocked.Increment(ref _inFlight);
                Interlocked.Increment(ref _invocations);
                byte[] payload = body.Length > RiePayloadLimit ? body[..RiePayloadLimit] : body;
                var invocation = new Invocation(Guid.NewGuid().ToString(), payload, "us-east-1", context.Request.Headers["X-Amzn-Trace-Id"], DateTimeOffset.UtcNow);
                _queue.Writer.TryWrite(invocation);
                var (outcome, answer, _) = await invocation.Done.Task;
                switch (outcome)
                {
                    case "timeout":
                        await ReplyRieAsync(context, 200, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Task timed out after {Timeout.TotalSeconds:0}.00 seconds"));
                        break;
                    case "init-error":
                        await ReplyRieAsync(context, 502, answer);
                        break;
                    default:
                        await ReplyRieAsync(context, 200, answer);
                        break;
                }
            }
            finally
            {
                Volatile.Write(ref _rieBusy, 0);
            }
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException && _crashed)
        {
            // The emulator went down under this request: the client sees its connection closed.
        }
    }

    /// <summary>An init failure: in the RIE, every invoke from now on is answered 502 with it (Lambda tries the init again).</summary>
    private void InitFailed(string error)
    {
        if (IsRuntimeInterfaceEmulator)
        {
            Volatile.Write(ref _rieInitError, error);
        }
    }

    private void Crash()
    {
        _crashed = true;
        _errors.Enqueue("crashed: a second invocation arrived while one was running");
        _invoke.Abort();
        foreach (Sandbox sandbox in _sandboxes)
        {
            sandbox.Kill();
        }
    }

    // Go's server sniffs the type of an answer without one: JSON and plain text alike are text/plain.
    private static Task ReplyRieAsync(HttpListenerContext context, int status, string text) =>
        Loopback.ReplyAsync(context.Response, status, "text/plain; charset=utf-8", text);
}
