using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;
using Neutral.Execution;
using Neutral.Wire;

namespace Neutral.Cli;

/// <summary>
/// <c>neutral doctor</c>: one round trip on the configured provider, step by step, each with its time, and on the first
/// step that fails a hint that names the likely cause (credentials, bucket, function missing, stale worker, throttled).
/// The call is the probe every worker serves (<c>WorkerProbe</c>), so the tool needs none of the application's code.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create(ToolContext context)
    {
        Option<int> timeout = new("--timeout") { Description = "Seconds the call may take, worker start included (default 120).", DefaultValueFactory = _ => 120 };
        Command command = new("doctor",
            "Runs one call on the configured provider, step by step (store, deployment, invoke, worker, status, result, cleanup), with the time of each and a hint when one fails. Example: neutral doctor")
        {
            timeout,
        };
        command.SetAction((parsed, cancellationToken) => RunAsync(context, parsed.GetValue(timeout), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ToolContext context, int timeoutSeconds, CancellationToken cancellationToken)
    {
        if (timeoutSeconds is < 1 or > 3600)
        {
            throw new ToolException($"--timeout {timeoutSeconds}: give 1 to 3600 seconds.");
        }

        NeutralOptions options = context.Options;
        options.Job.TimeoutSeconds = timeoutSeconds;
        options.Job.StartTimeoutSeconds = Math.Min(options.Job.StartTimeoutSeconds, timeoutSeconds);
        options.Job.KeepData = false;
        // A failed probe is the doctor's own business: nothing kept for replay.
        options.Job.KeepFailedHours = 0;
        // The app's folder, not the tool's working directory, is where a relative local root is.
        options.Local.Root = System.IO.Path.GetFullPath(options.Local.Root, context.Directory);
        string storage = options.Storage ?? options.Providers.DefaultStorageFor(options.Compute);
        var report = new Report(context.Output, options);
        await context.Output.WriteLineAsync($"neutral doctor: compute {options.Compute}, storage {storage}");
        var total = Stopwatch.StartNew();

        // A configuration Connect refuses is bad input (one line, exit code 2); a store or platform that refuses a
        // request later is a failed step.
        Cloud? cloud = await report.StepAsync("connect", () => Task.FromResult(Cloud.Connect(options)), c => c.Context.Location.Kind + ":" + c.Context.Location.Bucket, configurationIsInput: true);
        if (cloud is null)
        {
            return 1;
        }

        await using (cloud)
        {
            if (!await StoreStepsAsync(report, cloud.Context.Jobs, cancellationToken))
            {
                return 1;
            }

            if (cloud.Context.Backend is IDeployedComputeBackend deployed)
            {
                bool found = await report.StepAsync("deployment record", async () =>
                {
                    await deployed.VerifyDeploymentAsync(Array.Empty<RemoteFunctionInfo>(), cancellationToken);
                    return true;
                }, _ => "the deployed worker and its tables are there");
                if (!found)
                {
                    return 1;
                }
            }
            else
            {
                report.Skip("deployment record", $"{options.Compute} compute starts its workers itself: nothing is deployed");
            }

            string nonce = "doctor-" + Guid.NewGuid().ToString("N")[..12];
            RemoteJob<string> job = cloud.Submit([WorkerProbeCall.Create(nonce)]);
            string? answer = await report.StepAsync("call", async () => (await job.GetResultsAsync(cancellationToken))[0], _ => "the worker answered");
            if (answer is null)
            {
                return 1;
            }

            if (!answer.StartsWith(nonce + "\n", StringComparison.Ordinal))
            {
                report.Fail("result", "the worker answered with another call's result", "the store returned an object that is not this call's: is another client using the same bucket and job ids?");
                return 1;
            }

            report.Timeline(job.Timeline.Calls[0], Facts(answer));
            bool clean = await report.StepAsync("cleanup", async () =>
            {
                await job.Completion.WaitAsync(cancellationToken);
                // The job deletes its own data once its results are read (Job:KeepData is off here).
                for (int i = 0; i < 50; i++)
                {
                    int left = await cloud.Context.Jobs.ListAsync(StorageLayout.Job(job.JobId), cancellationToken).CountAsync(cancellationToken);
                    if (left == 0)
                    {
                        return true;
                    }

                    await Task.Delay(100, cancellationToken);
                }

                throw new InvalidOperationException($"the job's objects are still in the store under {Cloud.InternalPrefix}{StorageLayout.Job(job.JobId)} 5 s after it ended");
            }, _ => "the job's data is deleted");
            if (!clean)
            {
                return 1;
            }
        }

        await context.Output.WriteLineAsync($"All steps passed in {Ms(total.Elapsed)}.");
        return 0;
    }

    private static async Task<bool> StoreStepsAsync(Report report, Storage.PrefixedObjectStore jobs, CancellationToken cancellationToken)
    {
        string key = "doctor/" + Guid.NewGuid().ToString("N");
        byte[] data = Encoding.UTF8.GetBytes("neutral doctor " + DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        if (!await report.StepAsync("store write", async () =>
        {
            await jobs.PutAsync(key, data, cancellationToken);
            return true;
        }, _ => Cloud.InternalPrefix + key))
        {
            return false;
        }

        bool read = await report.StepAsync("store read", async () =>
        {
            byte[] back = await jobs.GetAsync(key, cancellationToken) ?? throw new InvalidOperationException("the object just written is not there");
            return back.AsSpan().SequenceEqual(data) ? true : throw new InvalidOperationException("the object read back differs from what was written");
        }, _ => $"{data.Length} bytes, the same");
        bool deleted = await report.StepAsync("store delete", async () =>
        {
            await jobs.DeleteAsync(key, cancellationToken);
            return await jobs.GetAsync(key, cancellationToken) is null ? true : throw new InvalidOperationException("the object is still there after its deletion");
        }, _ => "gone");
        return read && deleted;
    }

    private static Dictionary<string, string> Facts(string answer) =>
        answer.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    internal static string Ms(TimeSpan span) => span.TotalMilliseconds < 10_000
        ? span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms"
        : span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    /// <summary>The steps' lines: <c>  ok    name    time    detail</c>, and a failure's hint under it.</summary>
    private sealed class Report(System.IO.TextWriter output, NeutralOptions options)
    {
        private static readonly string[] WhereFacts = ["host", "build", "rid", "runtime"];

        private void Line(string mark, string step, string time, string detail) =>
            output.WriteLine($"  {mark,-5} {step,-18} {time,9}  {detail}");

        public void Skip(string step, string why) => Line("-", step, "", why);

        public void Fail(string step, string what, string hint)
        {
            Line("FAIL", step, "", what);
            output.WriteLine($"        hint: {hint}");
        }

        /// <summary>Runs a step and writes its line; a failure writes the error and a hint, and gives default.</summary>
        public async Task<T?> StepAsync<T>(string step, Func<Task<T>> run, Func<T, string> detail, bool configurationIsInput = false)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                T value = await run();
                Line("ok", step, Ms(watch.Elapsed), detail(value));
                return value;
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e) when (e is not ToolException && !(configurationIsInput && e is NeutralConfigurationException))
            {
                Line("FAIL", step, Ms(watch.Elapsed), OneLine(e));
                if (WithCode(e) is { } cause && DoctorHints.ServiceCode(cause) is { Length: > 0 } code)
                {
                    output.WriteLine($"        cause: {cause.GetType().Name} {code}{(cause.Message.Length > 0 ? ": " + cause.Message.Split('\n', 2)[0] : "")}");
                }

                output.WriteLine($"        hint: {DoctorHints.For(step, e, options)}");
                return default;
            }
        }

        public void Timeline(CallStats call, Dictionary<string, string> facts)
        {
            static string Between(DateTimeOffset? from, DateTimeOffset? to) => from is { } a && to is { } b ? Ms(b - a) : "?";
            string where = string.Join(", ", WhereFacts.Where(facts.ContainsKey).Select(k => k + " " + facts[k]));
            Line("ok", "  invoke", Between(call.Submitted, call.Invoked), "staged and invoked");
            Line("ok", "  worker start", Between(call.Invoked, call.WorkerStart), (call.ColdStart ? "cold start" : "warm") + (facts.TryGetValue("uptime_ms", out string? u) ? $", process up {u} ms" : ""));
            Line("ok", "  call ran", Between(call.WorkerStart, call.WorkerEnd), where + (facts.TryGetValue("neutral", out string? v) ? ", Neutral " + v : ""));
            Line("ok", "  status seen", Between(call.WorkerEnd, call.StatusSeen), "the status object was read by the client");
            Line("ok", "  result", Between(call.StatusSeen, call.ResultFetched), "the answer carried this call's nonce");
        }

        private static Exception? WithCode(Exception e)
        {
            for (Exception? x = e; x is not null; x = x.InnerException)
            {
                if (DoctorHints.ServiceCode(x).Length > 0)
                {
                    return x;
                }
            }

            return null;
        }

        private static string OneLine(Exception e)
        {
            Exception shown = e is RemoteJobException { Failures.Count: > 0 } job ? job.Failures[0] : e;
            string text = shown.Message.Split('\n', 2)[0].TrimEnd('\r');
            return shown is RemoteException remote ? $"{remote.RemoteTypeName}: {text}" : $"{shown.GetType().Name}: {text}";
        }
    }
}

/// <summary>What a failed doctor step most likely means, in one line.</summary>
internal static class DoctorHints
{
    public static string For(string step, Exception e, NeutralOptions options)
    {
        Exception inner = e is RemoteJobException { Failures.Count: > 0 } job ? job.Failures[0] : e;
        string text = Flatten(e) + " " + (inner is RemoteException r ? r.RemoteTypeName : "");
        bool Has(params string[] words) => words.Any(w => text.Contains(w, StringComparison.OrdinalIgnoreCase));
        string provider = options.Compute;

        if (Has("StaleWorker", "stale worker", "redeploy"))
        {
            return "the deployed worker was built from other code or an older Neutral: redeploy it from this build (neutral deploy).";
        }

        if (Has("InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthenticationFailed", "AuthorizationFailure", "ExpiredToken", "UnrecognizedClientException", "InvalidSignature", "no credentials", "Unauthorized", "401"))
        {
            return $"the credentials were refused: check them (neutral config shows which are used; {CredentialPlace(provider)}).";
        }

        if (Has("NoSuchBucket", "ContainerNotFound", "bucket does not exist"))
        {
            return "the bucket (container) does not exist or is in another region: create it, or fix the bucket's name and region in the configuration.";
        }

        if (Has("AccessDenied", "Forbidden", "403", "AuthorizationPermissionMismatch"))
        {
            return step.StartsWith("store", StringComparison.Ordinal)
                ? "the store refused this identity: it needs read, write, delete and list rights on the bucket (the README's Run on section lists them)."
                : step == "call"
                    ? "a worker was refused by the store or the platform refused the invoke: the function's role needs read, write and delete rights on the bucket, the caller the invoke right (README, Run on)."
                    : "the platform refused this identity: it needs the rights the README's Run on section lists for running jobs.";
        }

        if (Has("ResourceNotFound", "Function not found", "no deployed worker", "not deployed", "The requested resource does not exist", "404"))
        {
            return "there is no deployed worker under the configured name: deploy it (neutral deploy), or set the function's name in the configuration.";
        }

        if (e is ThrottledException || Has("TooManyRequests", "Throttl", "429", "Rate exceeded"))
        {
            return "the platform throttled the invoke: the account's concurrency quota is used up (other jobs?) or the function's reserved concurrency is 0.";
        }

        if (inner is TimeoutException || Has("TimeoutException", "timed out", "no status", "past its deadline", "did not start"))
        {
            return step == "call"
                ? $"no status came back in time: the worker did not start or could not reach the store. Look at the worker's own log ({LogPlace(options)}), or give more time with --timeout."
                : "the request timed out: the endpoint is slow or unreachable from here.";
        }

        if (Has("NameResolutionFailure", "No such host", "Connection refused", "actively refused", "Name or service not known") || e is HttpRequestException or SocketException)
        {
            return "the endpoint cannot be reached from here: check its address in the configuration (ServiceUrl, endpoints), the network, or a proxy.";
        }

        if (e is NeutralConfigurationException)
        {
            return "the configuration is incomplete or wrong: the message names the key; neutral config shows what each key resolved to and where from.";
        }

        return step switch
        {
            "connect" => "the client could not start: neutral config shows the configuration it read.",
            "call" => "the call failed in the worker: its message above is the worker's; neutral logs <job> shows what the call printed.",
            _ => "see the message above.",
        };
    }

    private static string Flatten(Exception e)
    {
        var text = new StringBuilder();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            text.Append(x.GetType().Name).Append(' ').Append(x.Message).Append(' ').Append(ServiceCode(x)).Append(' ');
            if (x is RemoteJobException job)
            {
                foreach (RemoteException failure in job.Failures)
                {
                    text.Append(failure.RemoteTypeName).Append(' ').Append(failure.Message).Append(' ');
                }
            }
        }

        return text.ToString();
    }

    /// <summary>A cloud SDK's error code and HTTP status, which its message may lack (RGW and S3 often send none).</summary>
    internal static string ServiceCode(Exception e) => e switch
    {
        Amazon.Runtime.AmazonServiceException aws => $"{aws.ErrorCode} HTTP {(int)aws.StatusCode}",
        global::Azure.RequestFailedException azure => $"{azure.ErrorCode} HTTP {azure.Status}",
        _ => "",
    };

    private static string CredentialPlace(string provider) => provider switch
    {
        "aws" => "the SDK's default chain, or Neutral:Aws:AccessKeyId with the secret in NEUTRAL__AWS__SECRETACCESSKEY",
        "azure" => "az login, a managed identity, or the connection string in NEUTRAL__AZURE__CONNECTIONSTRING",
        "openwhisk" => "Neutral:OpenWhisk:AuthKey for the controller (in NEUTRAL__OPENWHISK__AUTHKEY), Neutral:Minio:AccessKey/SecretKey for the store",
        _ => "the store's keys",
    };

    private static string LogPlace(NeutralOptions options) => options.Compute switch
    {
        "aws" => $"CloudWatch Logs, group /aws/lambda/{options.ReadFrom?["Neutral:Aws:Function"] ?? "neutral"}",
        "azure" => "Application Insights or the Function App's log stream",
        "openwhisk" => "wsk activation list, then wsk activation logs <id>",
        _ => "the worker's standard error, forwarded to this console",
    };
}
