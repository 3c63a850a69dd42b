using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Neutral.Wire;

namespace Neutral.Providers.Aws.Compute;

/// <summary>How the deployed function is set up.</summary>
/// <param name="Role">The ARN of the function's execution role (needed to create the function; an update keeps the current one when null).</param>
/// <param name="MemoryMb">The function's memory in MB (128 to 10,240; the CPU share grows with it, one vCPU at 1,769 MB).</param>
/// <param name="TimeoutSeconds">The function's timeout (1 to 900 s).</param>
public sealed record LambdaFunctionSettings(string? Role, int MemoryMb = LambdaFunctionSettings.DefaultMemoryMb, int TimeoutSeconds = 300)
{
    /// <summary>The memory a function gets unless a <c>[Remote(MemoryMb = ...)]</c> method or the configuration asks for more.</summary>
    public const int DefaultMemoryMb = 1024;

    /// <summary>Lambda's longest timeout.</summary>
    public const int MaxTimeoutSeconds = 900;
}

/// <summary>What a deployment did.</summary>
/// <param name="FunctionArn">The function's ARN.</param>
/// <param name="Created">Whether the function was created (else its code and configuration were updated).</param>
/// <param name="ZipBytes">The package's size.</param>
/// <param name="TablesDigest">The digest of the deployed dispatch tables (the function's <c>NEUTRAL_TABLES</c> variable).</param>
/// <param name="ViaS3">Whether the code went through the bucket (packages above the direct upload limit).</param>
public sealed record LambdaDeployment(string FunctionArn, bool Created, long ZipBytes, string TablesDigest, bool ViaS3);

/// <summary>
/// Deploys the worker as a Lambda function on the <c>provided.al2023</c> custom runtime: the published application
/// zipped with its executable as <c>bootstrap</c> at the root, created (<c>CreateFunction</c>) or updated
/// (<c>UpdateFunctionCode</c>, then <c>UpdateFunctionConfiguration</c>), each time waiting until Lambda reports the
/// function <c>Active</c> and its last update <c>Successful</c>, through the same SigV4-signed REST client as the
/// invocations. The function's <c>NEUTRAL_TABLES</c> variable names a digest of the dispatch tables it carries; the
/// tables themselves are stored in the bucket under <see cref="TablesKey"/> (Lambda allows 4 KB of variables), so that
/// a client can tell a stale function before a job starts.
/// </summary>
public static class LambdaDeployer
{
    /// <summary>The variable holding the deployed tables' digest.</summary>
    public const string TablesVariable = "NEUTRAL_TABLES";

    /// <summary>The custom runtime the function runs on.</summary>
    public const string Runtime = "provided.al2023";

    /// <summary>Packages up to this size are sent in the request (Lambda's limit for a direct upload is 50 MB); larger ones go through the bucket.</summary>
    public const long DirectUploadLimit = 50_000_000;

    /// <summary>Lambda's limit on a function's unzipped code.</summary>
    public const long UnzippedLimit = 262_144_000;

    private const string ApiVersion = "2015-03-31";

    /// <summary>The body of the <c>PutFunctionEventInvokeConfig</c> request a deployment sends: no retries by Lambda.</summary>
    public const string EventInvokeConfigBody = """{"MaximumRetryAttempts":0}""";

    private const string EventInvokeConfigPath = "event-invoke-config";

    /// <summary>Zips a published application folder with <paramref name="executable"/> stored as <c>bootstrap</c> at the root (see <see cref="WorkerPackage.Zip"/>).</summary>
    public static byte[] Package(string publishFolder, string executable) => WorkerPackage.Zip(publishFolder, executable, "bootstrap");

    /// <summary>
    /// Publishes <paramref name="project"/> as the function's executable for linux-x64 (see
    /// <see cref="WorkerPackage.PublishAsync"/>: NativeAOT when it builds without a warning, else self-contained JIT with
    /// ReadyToRun). Deploy the result with <c>NEUTRAL_WORKER=aws-deploy</c> (see the README) or <see cref="DeployAsync"/>.
    /// </summary>
    public static Task<PublishedWorker> PublishAsync(string project, string output, bool? nativeAot = null, CancellationToken cancellationToken = default) =>
        WorkerPackage.PublishAsync(project, output, nativeAot, cancellationToken);

    /// <summary>The tables' canonical text (<see cref="DeployedTables.Text"/>).</summary>
    public static string TablesText(IReadOnlyDictionary<string, string> tables) => DeployedTables.Text(tables);

    /// <summary>The digest of <see cref="TablesText"/> (<see cref="DeployedTables.Digest"/>).</summary>
    public static string TablesDigest(IReadOnlyDictionary<string, string> tables) => DeployedTables.Digest(tables);

    /// <summary>Where the tables with <paramref name="digest"/> are kept in the bucket.</summary>
    public static string TablesKey(string digest) => StorageLayout.LambdaTables(digest);

    /// <summary>Reads <see cref="TablesText"/> back (<see cref="DeployedTables.Parse"/>).</summary>
    public static Dictionary<string, string>? ParseTables(string text) => DeployedTables.Parse(text);

    /// <summary>The <c>CreateFunction</c> request's body (code in the request, or in the bucket when <paramref name="zip"/> is null).</summary>
    public static string CreateBody(string function, byte[]? zip, (string Bucket, string Key)? s3Code, LambdaFunctionSettings settings, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(function);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Role is not { Length: > 0 } role)
        {
            throw new NeutralConfigurationException("Neutral:Aws:Role", null,
                $"creating the function {function} needs its execution role: set it to the role's ARN (arn:aws:iam::ACCOUNT:role/NAME; the README lists the policy it needs).");
        }

        return Json(json =>
        {
            json.WriteString("FunctionName", function);
            json.WriteString("Runtime", Runtime);
            json.WriteString("Handler", "bootstrap");
            json.WriteString("Role", role);
            json.WriteString("Description", "Neutral worker");
            json.WriteNumber("MemorySize", settings.MemoryMb);
            json.WriteNumber("Timeout", settings.TimeoutSeconds);
            json.WriteStartArray("Architectures");
            json.WriteStringValue("x86_64");
            json.WriteEndArray();
            json.WriteString("PackageType", "Zip");
            json.WriteBoolean("Publish", false);
            WriteCode(json, "Code", zip, s3Code);
            WriteEnvironment(json, environment);
        });
    }

    /// <summary>The <c>UpdateFunctionCode</c> request's body.</summary>
    public static string UpdateCodeBody(byte[]? zip, (string Bucket, string Key)? s3Code) => Json(json =>
    {
        WriteCode(json, null, zip, s3Code);
        json.WriteStartArray("Architectures");
        json.WriteStringValue("x86_64");
        json.WriteEndArray();
        json.WriteBoolean("Publish", false);
    });

    /// <summary>The <c>UpdateFunctionConfiguration</c> request's body (the role only when one is given).</summary>
    public static string UpdateConfigurationBody(LambdaFunctionSettings settings, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Json(json =>
        {
            json.WriteString("Runtime", Runtime);
            json.WriteString("Handler", "bootstrap");
            if (settings.Role is { Length: > 0 } role)
            {
                json.WriteString("Role", role);
            }

            json.WriteNumber("MemorySize", settings.MemoryMb);
            json.WriteNumber("Timeout", settings.TimeoutSeconds);
            WriteEnvironment(json, environment);
        });
    }

    private static void WriteCode(Utf8JsonWriter json, string? property, byte[]? zip, (string Bucket, string Key)? s3Code)
    {
        if (property is not null)
        {
            json.WriteStartObject(property);
        }

        if (zip is not null)
        {
            json.WriteString("ZipFile", Convert.ToBase64String(zip));
        }
        else if (s3Code is { } code)
        {
            json.WriteString("S3Bucket", code.Bucket);
            json.WriteString("S3Key", code.Key);
        }
        else
        {
            throw new ArgumentException("Either the zip or its place in S3 is needed.", nameof(zip));
        }

        if (property is not null)
        {
            json.WriteEndObject();
        }
    }

    private static void WriteEnvironment(Utf8JsonWriter json, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        json.WriteStartObject("Environment");
        json.WriteStartObject("Variables");
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Packages <paramref name="publishFolder"/> with <paramref name="executable"/> as <c>bootstrap</c>, stores the tables
    /// in the bucket, and creates or updates the function, waiting until Lambda has applied each step.
    /// </summary>
    /// <param name="lambda">The region, the function's name and the endpoint.</param>
    /// <param name="credentials">Signs the requests; null for the SDK's default chain.</param>
    /// <param name="store">The bucket the client uses: the tables go there (and the code, when too large to send directly).</param>
    /// <param name="bucket">The bucket's name (for code sent through it).</param>
    /// <param name="publishFolder">A self-contained or NativeAOT publish of the application for linux-x64.</param>
    /// <param name="executable">The application's executable, relative to the folder.</param>
    /// <param name="settings">Role, memory and timeout.</param>
    /// <param name="environment">The function's variables (<c>NEUTRAL_WORKER=aws</c> and the like); <see cref="TablesVariable"/> is added.</param>
    /// <param name="tables">Every function id the application serves, and its signature hash (as <c>InvocationEnvelope.FormatHash</c> writes it).</param>
    /// <param name="directUploadLimit">Packages larger than this go through the bucket.</param>
    /// <param name="cancellationToken">Cancels the deployment.</param>
    /// <exception cref="InvalidOperationException">Lambda refused a step (the message names it and Lambda's reason), or the package is too large.</exception>
    public static async Task<LambdaDeployment> DeployAsync(LambdaSettings lambda, AWSCredentials? credentials, IObjectStore store, string bucket,
        string publishFolder, string executable, LambdaFunctionSettings settings, IReadOnlyDictionary<string, string> environment,
        IReadOnlyDictionary<string, string> tables, long directUploadLimit = DirectUploadLimit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lambda);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(tables);
        if (settings.MemoryMb is < 128 or > 10_240)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.MemoryMb, "Lambda's memory is 128 to 10,240 MB.");
        }

        if (settings.TimeoutSeconds is < 1 or > LambdaFunctionSettings.MaxTimeoutSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.TimeoutSeconds, "Lambda's timeout is 1 to 900 s.");
        }

        byte[] zip = CheckedPackage(publishFolder, executable);
        string digest = TablesDigest(tables);
        await store.TryCreateAsync(TablesKey(digest), Encoding.UTF8.GetBytes(TablesText(tables)), cancellationToken).ConfigureAwait(false);
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal) { [TablesVariable] = digest };

        (string Bucket, string Key)? s3Code = null;
        if (zip.Length > directUploadLimit)
        {
            string key = StorageLayout.LambdaCode(lambda.Function, Convert.ToHexStringLower(SHA256.HashData(zip)));
            await store.PutAsync(key, zip, cancellationToken).ConfigureAwait(false);
            s3Code = (bucket, key);
        }

        byte[]? inline = s3Code is null ? zip : null;
        using HttpClient http = LambdaComputeBackend.CreateClient(lambda, AwsProvider.Resolve(credentials), TimeSpan.FromMinutes(5));
        var client = new ControlPlane(http, lambda);
        bool created = await client.GetConfigurationAsync(cancellationToken).ConfigureAwait(false) is null;
        JsonElement applied;
        if (created)
        {
            // A role created moments ago may not be assumable by Lambda yet (IAM is eventually consistent): asked again.
            await client.SendAsync(HttpMethod.Post, "functions", CreateBody(lambda.Function, inline, s3Code, settings, variables), "CreateFunction",
                retryRoleNotReady: true, cancellationToken).ConfigureAwait(false);
            applied = await client.WaitAsync("CreateFunction", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await client.WaitAsync("the previous update", cancellationToken).ConfigureAwait(false);
            await client.SendAsync(HttpMethod.Put, "code", UpdateCodeBody(inline, s3Code), "UpdateFunctionCode", retryRoleNotReady: false, cancellationToken).ConfigureAwait(false);
            await client.WaitAsync("UpdateFunctionCode", cancellationToken).ConfigureAwait(false);
            await client.SendAsync(HttpMethod.Put, "configuration", UpdateConfigurationBody(settings, variables), "UpdateFunctionConfiguration",
                retryRoleNotReady: true, cancellationToken).ConfigureAwait(false);
            applied = await client.WaitAsync("UpdateFunctionConfiguration", cancellationToken).ConfigureAwait(false);
        }

        // The client retries every call itself, timed from storage: Lambda's own retries of an asynchronous invocation
        // that ended in a function error (two, a minute and then two minutes later, by default) would only run the
        // same attempt again.
        await client.SendAsync(HttpMethod.Put, EventInvokeConfigPath, EventInvokeConfigBody, "PutFunctionEventInvokeConfig", retryRoleNotReady: false, cancellationToken).ConfigureAwait(false);

        string arn = applied.TryGetProperty("FunctionArn", out JsonElement a) ? a.GetString() ?? lambda.Function : lambda.Function;
        return new LambdaDeployment(arn, created, zip.Length, digest, s3Code is not null);
    }

    /// <summary>
    /// What <see cref="DeployAsync"/> would send, as a <see cref="DeploymentPlan"/>: the same package, tables and bodies,
    /// nothing sent. Both branches are listed (the function may or may not exist).
    /// </summary>
    internal static DeploymentPlan Plan(LambdaSettings lambda, string bucket, string publishFolder, string executable, LambdaFunctionSettings settings,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> tables, string summary, long directUploadLimit = DirectUploadLimit)
    {
        byte[] zip = CheckedPackage(publishFolder, executable);
        string digest = TablesDigest(tables);
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal) { [TablesVariable] = digest };
        (string Bucket, string Key)? s3Code = zip.Length > directUploadLimit
            ? (bucket, StorageLayout.LambdaCode(lambda.Function, Convert.ToHexStringLower(SHA256.HashData(zip))))
            : null;
        byte[]? inline = s3Code is null ? zip : null;
        string function = Uri.EscapeDataString(lambda.Function);
        Uri api = new(lambda.Endpoint, $"{ApiVersion}/functions/{function}/");
        var plan = new DeploymentPlan(System.FormattableString.Invariant($"{summary}, {zip.Length / 1048576.0:0.0} MiB zip, {tables.Count} function{(tables.Count == 1 ? "" : "s")}, to {lambda}. It would send:"));
        plan.Request("PUT", $"s3://{bucket}", "create the bucket when missing");
        plan.Request("PUT", $"s3://{bucket}/{TablesKey(digest)}", "the dispatch tables (only when absent)", TablesText(tables).TrimEnd('\n'));
        if (s3Code is { } code)
        {
            plan.Request("PUT", $"s3://{code.Bucket}/{code.Key}", "the package (above Lambda's 50 MB direct upload)");
        }

        plan.Request("GET", api + "configuration", "does the function exist? (asked again after each change until it is Active and Successful)");
        plan.When("If it does not exist:");
        string create;
        try
        {
            create = CreateBody(lambda.Function, inline, s3Code, settings, variables);
        }
        catch (NeutralConfigurationException e)
        {
            create = "(not sent: " + e.Message + ")";
        }

        plan.Request("POST", new Uri(lambda.Endpoint, $"{ApiVersion}/functions").ToString(), "CreateFunction", create);
        plan.When("If it exists:");
        plan.Request("PUT", api + "code", "UpdateFunctionCode", UpdateCodeBody(inline, s3Code));
        plan.Request("PUT", api + "configuration", "UpdateFunctionConfiguration", UpdateConfigurationBody(settings, variables));
        plan.When("Then:");
        plan.Request("PUT", new Uri(lambda.Endpoint, $"2019-09-25/functions/{function}/{EventInvokeConfigPath}").ToString(), "PutFunctionEventInvokeConfig: Lambda does not retry", EventInvokeConfigBody);
        return plan;
    }

    /// <summary>The package, refused (before anything is sent) when Lambda would refuse it unzipped.</summary>
    private static byte[] CheckedPackage(string publishFolder, string executable)
    {
        byte[] zip = Package(publishFolder, executable);
        long unzipped = UnzippedSize(zip);
        return unzipped <= UnzippedLimit ? zip : throw new InvalidOperationException(
            $"the package is {unzipped / 1048576.0:0.0} MiB unzipped; Lambda takes at most 250 MiB. Publish with NativeAOT (-p:PublishAot=true), or trim the self-contained build.");
    }

    private static long UnzippedSize(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.Sum(e => e.Length);
    }

    /// <summary>The function's control-plane requests and the wait for Lambda to apply them.</summary>
    private sealed class ControlPlane(HttpClient http, LambdaSettings lambda)
    {
        private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(10);

        private Uri Url(string path) => new(lambda.Endpoint, path switch
        {
            "functions" => $"{ApiVersion}/functions",
            EventInvokeConfigPath => $"2019-09-25/functions/{Uri.EscapeDataString(lambda.Function)}/{path}",
            _ => $"{ApiVersion}/functions/{Uri.EscapeDataString(lambda.Function)}/{path}",
        });

        /// <summary>The function's configuration, or null when there is no such function.</summary>
        public async Task<JsonElement?> GetConfigurationAsync(CancellationToken cancellationToken)
        {
            using HttpResponseMessage response = await http.GetAsync(Url("configuration"), cancellationToken).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw Refused("GetFunctionConfiguration", response, body);
            }

            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }

        public async Task SendAsync(HttpMethod method, string path, string body, string operation, bool retryRoleNotReady, CancellationToken cancellationToken)
        {
            for (int attempt = 1; ; attempt++)
            {
                using var request = new HttpRequestMessage(method, Url(path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                string type = LambdaErrors.Type(response, text);
                bool again = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests
                    || type == "ResourceConflictException"
                    || (retryRoleNotReady && type == "InvalidParameterValueException" && LambdaErrors.Message(text).Contains("cannot be assumed", StringComparison.OrdinalIgnoreCase));
                if (again && attempt < 12)
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw Refused(operation, response, text);
            }
        }

        /// <summary>Waits until the function is <c>Active</c> and its last update <c>Successful</c> (reading its configuration); returns that configuration.</summary>
        public async Task<JsonElement> WaitAsync(string step, CancellationToken cancellationToken)
        {
            DateTimeOffset until = DateTimeOffset.UtcNow + WaitLimit;
            TimeSpan pause = TimeSpan.FromMilliseconds(250);
            while (true)
            {
                JsonElement configuration = await GetConfigurationAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"Lambda lost {lambda} while waiting for {step}.");
                string state = Text(configuration, "State") ?? "Active";
                string update = Text(configuration, "LastUpdateStatus") ?? "Successful";
                if (state == "Failed" || update == "Failed")
                {
                    string reason = Text(configuration, state == "Failed" ? "StateReason" : "LastUpdateStatusReason") ?? "no reason given";
                    string code = Text(configuration, state == "Failed" ? "StateReasonCode" : "LastUpdateStatusReasonCode") ?? "";
                    throw new InvalidOperationException($"Lambda could not apply {step} to {lambda}: {code} {reason}".Replace("  ", " ", StringComparison.Ordinal));
                }

                if (state == "Active" && update == "Successful")
                {
                    return configuration;
                }

                if (DateTimeOffset.UtcNow > until)
                {
                    throw new InvalidOperationException($"{lambda} is still {state} / {update} {WaitLimit.TotalMinutes} minutes after {step}.");
                }

                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                pause = TimeSpan.FromMilliseconds(Math.Min(2000, pause.TotalMilliseconds * 2));
            }
        }

        private static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private InvalidOperationException Refused(string operation, HttpResponseMessage response, string body)
        {
            string type = LambdaErrors.Type(response, body);
            string hint = response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
                ? $" The deploying identity needs lambda:{operation.Replace("the previous update", "GetFunctionConfiguration", StringComparison.Ordinal)} (and iam:PassRole on the function's role)."
                : "";
            return new InvalidOperationException($"Lambda refused {operation} for {lambda}: HTTP {(int)response.StatusCode} {type}: {LambdaErrors.Message(body)}{hint}");
        }
    }
}
