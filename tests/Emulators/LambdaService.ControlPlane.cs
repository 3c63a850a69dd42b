using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>
/// The function's control plane, as Lambda's API reference describes it: <c>CreateFunction</c> (<c>POST
/// /2015-03-31/functions</c>, 201, 409 when it exists), <c>GetFunctionConfiguration</c> (<c>GET
/// .../functions/{name}/configuration</c>), <c>UpdateFunctionCode</c> (<c>PUT .../code</c>) and
/// <c>UpdateFunctionConfiguration</c> (<c>PUT .../configuration</c>), and <c>PutFunctionEventInvokeConfig</c> (<c>PUT
/// /2019-09-25/functions/{name}/event-invoke-config</c>, recorded, not acted on). A new function is <c>Pending</c> and an update
/// <c>InProgress</c> for the next <see cref="PendingReads"/> configuration reads; an update or an invoke meanwhile is
/// answered 409 <c>ResourceConflictException</c>, as Lambda does. Code comes in the request (<c>ZipFile</c>, at most
/// 50 MB) or from a bucket (<c>S3Bucket</c>/<c>S3Key</c>, read through <see cref="ReadS3Code"/>); it is unzipped into a
/// folder of its own, and sandboxes start the new <c>bootstrap</c> on their next invocation.
/// </summary>
public sealed partial class LambdaService
{
    private readonly Lock _controlLock = new();
    private readonly ConcurrentQueue<(string Method, string Path, string Body)> _controlRequests = new();
    private readonly List<string> _codeFolders = [];
    private FunctionState? _function;
    private int _generation;

    /// <summary>The deployed function's settings and state.</summary>
    private sealed class FunctionState
    {
        public string State { get; set; } = "Active";

        public string LastUpdateStatus { get; set; } = "Successful";

        public int PendingReads { get; set; }

        public string Role { get; set; } = "arn:aws:iam::000000000000:role/neutral-test";

        public string Runtime { get; set; } = "provided.al2023";

        public Dictionary<string, string> Variables { get; set; } = [];

        public long CodeSize { get; set; }
    }

    /// <summary>The variables every process gets besides the function's own: the role's credentials and the region.</summary>
    public IReadOnlyDictionary<string, string> RoleEnvironment { get; set; }

    /// <summary>The function's memory (its <c>MemorySize</c>).</summary>
    public int MemoryMb { get; set; } = 512;

    /// <summary>Configuration reads for which a new function stays <c>Pending</c> and an update <c>InProgress</c>.</summary>
    public int PendingReads { get; set; } = 2;

    /// <summary>Reads a deployment package from a bucket (<c>Code.S3Bucket</c>, <c>Code.S3Key</c>); null: no such object.</summary>
    public Func<string, string, byte[]?>? ReadS3Code { get; set; }

    /// <summary>Control-plane requests received, in order: method, path, body.</summary>
    public IReadOnlyCollection<(string Method, string Path, string Body)> ControlRequests => _controlRequests;

    /// <summary>Bumped when the code or configuration changes: sandboxes restart their process.</summary>
    internal int Generation => Volatile.Read(ref _generation);

    [GeneratedRegex(@"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$")]
    private static partial Regex RoleArn();

    /// <summary>Answers a control-plane request; false when <paramref name="path"/> is not one.</summary>
    private async Task<bool> HandleControlPlaneAsync(HttpListenerContext context, string[] path, string body, string region)
    {
        string method = context.Request.HttpMethod;
        bool create = method == "POST" && path is ["2015-03-31", "functions"];
        bool read = method == "GET" && path is ["2015-03-31", "functions", _, "configuration"];
        bool code = method == "PUT" && path is ["2015-03-31", "functions", _, "code"];
        bool configure = method == "PUT" && path is ["2015-03-31", "functions", _, "configuration"];
        bool eventConfig = method == "PUT" && path is ["2019-09-25", "functions", _, "event-invoke-config"];
        if (!create && !read && !code && !configure && !eventConfig)
        {
            return false;
        }

        _controlRequests.Enqueue((method, context.Request.Url!.AbsolutePath, body));
        (int Status, string? Error, string Json) answer;
        try
        {
            answer = create ? Create(body, region)
                : Uri.UnescapeDataString(path[2]) != FunctionName || _function is null ? NotFound(Uri.UnescapeDataString(path[2]), region)
                : eventConfig ? EventInvokeConfig(body, region)
                : read ? Read(region)
                : code ? UpdateCode(body, region)
                : UpdateConfiguration(body, region);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            answer = (400, "InvalidParameterValueException", Message("The request is malformed: " + e.Message));
        }

        await ReplyAsync(context, answer.Status, answer.Error, answer.Json);
        return true;
    }

    private static string Message(string text) => JsonSerializer.Serialize(new Dictionary<string, string> { ["Type"] = "User", ["message"] = text });

    private (int, string?, string) NotFound(string name, string region) =>
        (404, "ResourceNotFoundException", Message($"Function not found: arn:aws:lambda:{region}:000000000000:function:{name}"));

    private (int, string?, string) Create(string body, string region)
    {
        using JsonDocument request = JsonDocument.Parse(body);
        JsonElement root = request.RootElement;
        string name = root.GetProperty(nameof(FunctionName)).GetString()!;
        lock (_controlLock)
        {
            if (name != FunctionName)
            {
                return (400, "InvalidParameterValueException", Message($"This emulator serves one function, {FunctionName}."));
            }

            if (_function is not null)
            {
                return (409, "ResourceConflictException", Message($"Function already exist: {name}"));
            }

            if (Invalid(root, requireRole: true) is { } invalid)
            {
                return invalid;
            }

            var (folder, size, error) = Unpack(root.GetProperty("Code"));
            if (error is not null)
            {
                return error.Value;
            }

            var function = new FunctionState { State = "Pending", PendingReads = PendingReads, CodeSize = size };
            Apply(function, root, folder);
            _function = function;
            return (201, null, Configuration(function, region));
        }
    }

    /// <summary>Retries Lambda would make of an asynchronous invocation that ended in a function error (2 unless configured).</summary>
    public int MaximumRetryAttempts { get; private set; } = 2;

    private (int, string?, string) EventInvokeConfig(string body, string region)
    {
        using JsonDocument request = JsonDocument.Parse(body);
        if (request.RootElement.TryGetProperty(nameof(MaximumRetryAttempts), out JsonElement retries))
        {
            int value = retries.GetInt32();
            if (value is < 0 or > 2)
            {
                return (400, "ValidationException", Message("1 validation error detected: Value at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"));
            }

            MaximumRetryAttempts = value;
        }

        return (200, null, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["FunctionArn"] = $"arn:aws:lambda:{region}:000000000000:function:{FunctionName}:$LATEST",
            [nameof(MaximumRetryAttempts)] = MaximumRetryAttempts,
            ["MaximumEventAgeInSeconds"] = 21600,
        }));
    }

    private (int, string?, string) Read(string region)
    {
        lock (_controlLock)
        {
            FunctionState function = _function!;
            string json = Configuration(function, region);
            if (function.PendingReads > 0 && --function.PendingReads == 0)
            {
                function.State = "Active";
                function.LastUpdateStatus = "Successful";
            }

            return (200, null, json);
        }
    }

    private (int, string?, string) UpdateCode(string body, string region)
    {
        using JsonDocument request = JsonDocument.Parse(body);
        lock (_controlLock)
        {
            FunctionState function = _function!;
            if (Busy(function) is { } busy)
            {
                return busy;
            }

            var (folder, size, error) = Unpack(request.RootElement);
            if (error is not null)
            {
                return error.Value;
            }

            Bootstrap = Path.Combine(folder!, "bootstrap");
            function.CodeSize = size;
            Updating(function);
            return (200, null, Configuration(function, region));
        }
    }

    private (int, string?, string) UpdateConfiguration(string body, string region)
    {
        using JsonDocument request = JsonDocument.Parse(body);
        lock (_controlLock)
        {
            FunctionState function = _function!;
            if (Busy(function) is { } busy)
            {
                return busy;
            }

            if (Invalid(request.RootElement, requireRole: false) is { } invalid)
            {
                return invalid;
            }

            Apply(function, request.RootElement, folder: null);
            Updating(function);
            return (200, null, Configuration(function, region));
        }
    }

    private (int, string?, string)? Busy(FunctionState function) =>
        function.State != "Active" || function.LastUpdateStatus == "InProgress"
            ? (409, "ResourceConflictException", Message($"The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:{FunctionName}"))
            : null;

    private void Updating(FunctionState function)
    {
        function.LastUpdateStatus = "InProgress";
        function.PendingReads = PendingReads;
        if (PendingReads == 0)
        {
            function.LastUpdateStatus = "Successful";
        }

        Interlocked.Increment(ref _generation);
    }

    private static (int, string?, string)? Invalid(JsonElement root, bool requireRole)
    {
        if (root.TryGetProperty("Role", out JsonElement role) ? !RoleArn().IsMatch(role.GetString() ?? "") : requireRole)
        {
            return (400, "ValidationException", Message("1 validation error detected: Value at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"));
        }

        if (root.TryGetProperty("Runtime", out JsonElement runtime) && runtime.GetString() is not ("provided.al2023" or "provided.al2"))
        {
            return (400, "InvalidParameterValueException", Message($"The runtime parameter of {runtime.GetString()} is not supported by this emulator: it runs custom runtimes (provided.al2023)."));
        }

        if (root.TryGetProperty("MemorySize", out JsonElement memory) && memory.GetInt32() is < 128 or > 10240)
        {
            return (400, "ValidationException", Message("1 validation error detected: Value at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"));
        }

        if (root.TryGetProperty(nameof(Timeout), out JsonElement timeout) && timeout.GetInt32() is < 1 or > 900)
        {
            return (400, "ValidationException", Message("1 validation error detected: Value at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"));
        }

        if (root.TryGetProperty("Handler", out JsonElement handler) && handler.GetString() is not { Length: > 0 })
        {
            return (400, "ValidationException", Message("1 validation error detected: Value at 'handler' failed to satisfy constraint: Member must have length greater than or equal to 1"));
        }

        return null;
    }

    private void Apply(FunctionState function, JsonElement root, string? folder)
    {
        if (folder is not null)
        {
            Bootstrap = Path.Combine(folder, "bootstrap");
        }

        if (root.TryGetProperty("Role", out JsonElement role))
        {
            function.Role = role.GetString()!;
        }

        if (root.TryGetProperty("Runtime", out JsonElement runtime))
        {
            function.Runtime = runtime.GetString()!;
        }

        if (root.TryGetProperty("MemorySize", out JsonElement memory))
        {
            MemoryMb = memory.GetInt32();
        }

        if (root.TryGetProperty(nameof(Timeout), out JsonElement timeout))
        {
            Timeout = TimeSpan.FromSeconds(timeout.GetInt32());
        }

        if (root.TryGetProperty(nameof(Environment), out JsonElement environment) && environment.TryGetProperty("Variables", out JsonElement variables))
        {
            function.Variables = variables.EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString()!, StringComparer.Ordinal);
            if (function.Variables.Keys.FirstOrDefault(k => k.StartsWith("AWS_", StringComparison.Ordinal) && k != "AWS_LAMBDA_EXEC_WRAPPER") is { } reserved)
            {
                throw new InvalidOperationException($"Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {reserved}");
            }

            Environment = function.Variables;
        }
    }

    /// <summary>Unzips the package into a folder of its own (as Lambda does into /var/task), checking Lambda's limits.</summary>
    private (string? Folder, long Size, (int, string?, string)? Error) Unpack(JsonElement code)
    {
        byte[]? zip;
        if (code.TryGetProperty("ZipFile", out JsonElement inline))
        {
            zip = Convert.FromBase64String(inline.GetString()!);
            if (zip.Length > 50_000_000)
            {
                return (null, 0, (413, "RequestEntityTooLargeException", Message("Request must be smaller than 70167211 bytes for the CreateFunction operation")));
            }
        }
        else if (code.TryGetProperty("S3Bucket", out JsonElement bucket) && code.TryGetProperty("S3Key", out JsonElement key))
        {
            zip = ReadS3Code?.Invoke(bucket.GetString()!, key.GetString()!);
            if (zip is null)
            {
                return (null, 0, (400, "InvalidParameterValueException", Message($"Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.")));
            }
        }
        else
        {
            return (null, 0, (400, "InvalidParameterValueException", Message("Please provide a source for function code.")));
        }

        string folder = Path.Combine(Path.GetTempPath(), "neutral-lambda-code-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
            long unzipped = archive.Entries.Sum(e => e.Length);
            if (unzipped > 262_144_000)
            {
                return (null, 0, (400, "InvalidParameterValueException", Message("Unzipped size must be smaller than 262144000 bytes")));
            }

            archive.ExtractToDirectory(folder);
        }
        catch (InvalidDataException)
        {
            return (null, 0, (400, "InvalidParameterValueException", Message("Could not unzip uploaded file. Please check your file, then try to upload again.")));
        }

        lock (_codeFolders)
        {
            _codeFolders.Add(folder);
        }

        return (folder, zip.Length, null);
    }

    /// <summary>The FunctionConfiguration document Lambda answers with.</summary>
    private string Configuration(FunctionState function, string region)
    {
        var document = new Dictionary<string, object?>
        {
            ["FunctionName"] = FunctionName,
            ["FunctionArn"] = $"arn:aws:lambda:{region}:000000000000:function:{FunctionName}",
            ["Runtime"] = function.Runtime,
            ["Role"] = function.Role,
            ["Handler"] = "bootstrap",
            ["CodeSize"] = function.CodeSize,
            ["Timeout"] = (int)Timeout.TotalSeconds,
            ["MemorySize"] = MemoryMb,
            ["Version"] = "$LATEST",
            ["PackageType"] = "Zip",
            ["Architectures"] = new[] { "x86_64" },
            ["State"] = function.State,
            ["LastUpdateStatus"] = function.LastUpdateStatus,
            ["Environment"] = new Dictionary<string, object> { ["Variables"] = function.Variables },
        };
        return JsonSerializer.Serialize(document);
    }

    private void DeleteCodeFolders()
    {
        lock (_codeFolders)
        {
            foreach (string folder in _codeFolders)
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
