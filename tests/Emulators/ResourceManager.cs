using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Neutral.Emulators;

/// <summary>
/// The part of Azure Resource Manager a Function App deployment talks to, recording every request, as the REST API
/// reference describes it: <c>GET</c>/<c>PUT</c> of resources under
/// <c>/subscriptions/{id}/resourceGroups/{group}/providers/...</c> (<c>201</c> when created, <c>200</c> when updated,
/// <c>properties.provisioningState</c> <c>Succeeded</c>; sites answer without their app settings, as ARM does),
/// <c>POST {site}/config/appsettings/list</c>, <c>PUT {site}/config/appsettings</c>,
/// <c>POST {site}/syncfunctiontriggers</c>; errors as <c>{"error":{"code","message"}}</c>: <c>401
/// InvalidAuthenticationToken</c> without the expected bearer token, <c>400 MissingApiVersionParameter</c>,
/// <c>404 ResourceGroupNotFound</c> / <c>ResourceNotFound</c>. HTTPS only (Azure's SDK sends bearer tokens over TLS
/// only), with a self-signed certificate for 127.0.0.1 that <see cref="CertificateFile"/> holds for clients to trust.
/// </summary>
public sealed class ResourceManager : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _token;
    private readonly HashSet<string> _groups;
    private readonly ConcurrentDictionary<string, JsonObject> _resources = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Dictionary<string, string>> _appSettings = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<ArmRequest> _requests = new();
    private readonly ConcurrentQueue<(int Status, string Code)> _failures = new();
    private readonly string _folder;

    private ResourceManager(WebApplication app, X509Certificate2 certificate, string token, IEnumerable<string> groups, string folder)
    {
        _app = app;
        Certificate = certificate;
        _token = token;
        _groups = new HashSet<string>(groups, StringComparer.OrdinalIgnoreCase);
        _folder = folder;
        CertificateFile = Path.Combine(folder, "arm.pem");
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem() + "\n");
    }

    /// <summary>
    /// Starts on a free port of 127.0.0.1, accepting <paramref name="token"/> as the bearer token, with the resource
    /// groups <paramref name="groups"/> (<c>/subscriptions/{id}/resourceGroups/{name}</c>) existing.
    /// </summary>
    public static async Task<ResourceManager> StartAsync(string token, params string[] groups)
    {
        string folder = Directory.CreateTempSubdirectory("neutral-arm-").FullName;
        X509Certificate2 certificate = SelfSigned();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        WebApplication app = builder.Build();
        var arm = new ResourceManager(app, certificate, token, groups, folder);
        app.Run(arm.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        arm.Endpoint = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        return arm;
    }

    /// <summary>The management endpoint (<c>https://127.0.0.1:{port}/</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The server's certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate as a PEM file: a client process trusts it with <c>SSL_CERT_FILE</c>.</summary>
    public string CertificateFile { get; }

    /// <summary>Every request, in order of arrival.</summary>
    public IReadOnlyList<ArmRequest> Requests => _requests.ToArray();

    /// <summary>The stored resource <paramref name="id"/>, or null.</summary>
    public JsonObject? Resource(string id) => _resources.TryGetValue(id, out JsonObject? resource) ? resource : null;

    /// <summary>The app settings of site <paramref name="siteId"/> (from its creation's <c>siteConfig.appSettings</c> or the last <c>PUT config/appsettings</c>).</summary>
    public IReadOnlyDictionary<string, string> AppSettings(string siteId) =>
        _appSettings.TryGetValue(siteId, out var settings) ? new Dictionary<string, string>(settings) : new Dictionary<string, string>();

    /// <summary>Makes an existing site, as one created in the portal with a setting of the user's own.</summary>
    public void AddSite(string siteId, string location, IReadOnlyDictionary<string, string> settings)
    {
        _resources[siteId] = new JsonObject
        {
            ["id"] = siteId,
            ["name"] = siteId[(siteId.LastIndexOf('/') + 1)..],
            ["type"] = "Microsoft.Web/sites",
            ["location"] = location,
            ["kind"] = "functionapp,linux",
            ["properties"] = new JsonObject { ["state"] = "Running", ["provisioningState"] = "Succeeded" },
        };
        _appSettings[siteId] = new Dictionary<string, string>(settings);
    }

    /// <summary>
    /// Whether a <c>PUT</c> runs as a long-running operation: answered <c>201</c> with an <c>Azure-AsyncOperation</c>
    /// status resource that says <c>InProgress</c> at the first poll and <see cref="OperationOutcome"/> at the next.
    /// </summary>
    public bool LongRunningPuts { get; set; }

    /// <summary>How long-running operations end: <c>Succeeded</c>, <c>Failed</c> or <c>Canceled</c>.</summary>
    public string OperationOutcome { get; set; } = "Succeeded";

    private readonly ConcurrentDictionary<string, int> _operations = new(StringComparer.Ordinal);

    /// <summary>The next request is answered with <paramref name="status"/> and the error code <paramref name="code"/>.</summary>
    public void FailNext(int status, string code) => _failures.Enqueue((status, code));

    /// <summary>A handler that trusts this server's certificate (for an in-process client).</summary>
    public HttpMessageHandler TrustingHandler() => new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == Certificate.GetCertHashString(),
        },
    };

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string body = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync().ConfigureAwait(false);
        string path = request.Path.Value ?? "/";
        string? version = request.Query["api-version"].FirstOrDefault();
        _requests.Enqueue(new ArmRequest(request.Method, path, version, request.Headers.Authorization.FirstOrDefault(), body));

        if (request.Headers.Authorization.FirstOrDefault() != "Bearer " + _token)
        {
            await ErrorAsync(context, 401, "InvalidAuthenticationToken", "The access token is invalid.").ConfigureAwait(false);
            return;
        }

        if (string.IsNullOrEmpty(version))
        {
            await ErrorAsync(context, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.").ConfigureAwait(false);
            return;
        }

        if (_failures.TryDequeue(out var failure))
        {
            await ErrorAsync(context, failure.Status, failure.Code, $"Injected failure {failure.Code}.").ConfigureAwait(false);
            return;
        }

        string[] segments = path.Trim('/').Split('/');
        if (request.Method == "GET" && segments.Length > 2 && segments[^2] == "operationStatuses" && _operations.TryGetValue(segments[^1], out int polls))
        {
            _operations[segments[^1]] = polls + 1;
            string status = polls == 0 ? "InProgress" : OperationOutcome;
            var answer = new JsonObject { ["id"] = path, ["name"] = segments[^1], ["status"] = status };
            if (status == "Failed")
            {
                answer["error"] = new JsonObject { ["code"] = "Conflict", ["message"] = "The operation failed (injected)." };
            }

            context.Response.Headers["Retry-After"] = "0";
            await JsonAsync(context, 200, answer).ConfigureAwait(false);
            return;
        }

        if (segments.Length < 4 || !segments[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) || !segments[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, 400, "UnsupportedRequest", $"{request.Method} {path} is not a request this emulator knows.").ConfigureAwait(false);
            return;
        }

        string group = string.Join('/', segments.Take(4));
        if (!_groups.Contains("/" + group))
        {
            await ErrorAsync(context, 404, "ResourceGroupNotFound", $"Resource group '{segments[3]}' could not be found.").ConfigureAwait(false);
            return;
        }

        string id = "/" + string.Join('/', segments);
        switch (request.Method)
        {
            case "GET" when _resources.TryGetValue(id, out JsonObject? resource):
                await JsonAsync(context, 200, resource).ConfigureAwait(false);
                return;
            case "GET":
                await ErrorAsync(context, 404, "ResourceNotFound", $"The Resource '{id}' was not found.").ConfigureAwait(false);
                return;
            case "PUT" when id.EndsWith("/config/appsettings", StringComparison.OrdinalIgnoreCase):
            {
                string site = id[..^"/config/appsettings".Length];
                if (!_resources.ContainsKey(site))
                {
                    await ErrorAsync(context, 404, "ResourceNotFound", $"The Resource '{site}' was not found.").ConfigureAwait(false);
                    return;
                }

                JsonObject properties = JsonNode.Parse(body)!["properties"]!.AsObject();
                _appSettings[site] = properties.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
                await JsonAsync(context, 200, SettingsResource(site)).ConfigureAwait(false);
                return;
            }

            case "POST" when id.EndsWith("/config/appsettings/list", StringComparison.OrdinalIgnoreCase):
            {
                string site = id[..^"/config/appsettings/list".Length];
                if (!_resources.ContainsKey(site))
                {
                    await ErrorAsync(context, 404, "ResourceNotFound", $"The Resource '{site}' was not found.").ConfigureAwait(false);
                    return;
                }

                await JsonAsync(context, 200, SettingsResource(site)).ConfigureAwait(false);
                return;
            }

            case "POST" when id.EndsWith("/syncfunctiontriggers", StringComparison.OrdinalIgnoreCase):
                context.Response.StatusCode = _resources.ContainsKey(id[..^"/syncfunctiontriggers".Length]) ? 204 : 404;
                return;
            case "PUT":
                await PutAsync(context, id, segments, body).ConfigureAwait(false);
                return;
            default:
                await ErrorAsync(context, 400, "UnsupportedRequest", $"{request.Method} {path} is not a request this emulator knows.").ConfigureAwait(false);
                return;
        }
    }

    private async Task PutAsync(HttpContext context, string id, string[] segments, string body)
    {
        JsonObject resource = JsonNode.Parse(body)!.AsObject();
        if (resource["location"] is null)
        {
            await ErrorAsync(context, 400, "LocationRequired", "The location property is required for this definition.").ConfigureAwait(false);
            return;
        }

        resource["id"] = id;
        resource["name"] = segments[^1];
        resource["type"] = $"{segments[^4]}/{segments[^2]}";
        JsonObject properties = resource["properties"] as JsonObject ?? new JsonObject();
        resource["properties"] = properties;
        properties["provisioningState"] = "Succeeded";
        if (segments[^2].Equals("sites", StringComparison.OrdinalIgnoreCase))
        {
            if (properties["serverFarmId"]?.GetValue<string>() is not { } plan || !_resources.ContainsKey(plan))
            {
                await ErrorAsync(context, 404, "NotFound", $"Cannot find ServerFarm with name {properties["serverFarmId"]}.").ConfigureAwait(false);
                return;
            }

            if (properties["siteConfig"]?["appSettings"] is JsonArray settings)
            {
                _appSettings[id] = settings.ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["value"]!.GetValue<string>());
                properties["siteConfig"]!.AsObject().Remove("appSettings");
            }

            properties["state"] = "Running";
            properties["defaultHostName"] = segments[^1] + ".azurewebsites.net";
            if (resource["identity"] is JsonObject identity)
            {
                identity["principalId"] = Guid.NewGuid().ToString();
                identity["tenantId"] = Guid.Empty.ToString();
            }
        }

        bool created = _resources.TryAdd(id, resource);
        _resources[id] = resource;
        if (LongRunningPuts)
        {
            string operation = Guid.NewGuid().ToString("N");
            _operations[operation] = 0;
            context.Response.Headers["Azure-AsyncOperation"] = new Uri(Endpoint, $"subscriptions/{segments[1]}/providers/Microsoft.Web/operationStatuses/{operation}?api-version=2024-04-01").ToString();
            context.Response.Headers["Retry-After"] = "0";
            await JsonAsync(context, 201, resource).ConfigureAwait(false);
            return;
        }

        await JsonAsync(context, created ? 201 : 200, resource).ConfigureAwait(false);
    }

    private JsonObject SettingsResource(string site)
    {
        var properties = new JsonObject();
        foreach (var (name, value) in _appSettings.GetValueOrDefault(site) ?? [])
        {
            properties[name] = value;
        }

        return new JsonObject
        {
            ["id"] = site + "/config/appsettings",
            ["name"] = "appsettings",
            ["type"] = "Microsoft.Web/sites/config",
            ["properties"] = properties,
        };
    }

    private static Task JsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString());
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        JsonAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Certificate.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One request the emulated Resource Manager received.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path (the resource id, with an action's segments).</param>
/// <param name="ApiVersion">The <c>api-version</c> query parameter.</param>
/// <param name="Authorization">The <c>Authorization</c> header.</param>
/// <param name="Body">The body.</param>
public sealed record ArmRequest(string Method, string Path, string? ApiVersion, string? Authorization, string Body)
{
    /// <summary>The body as JSON (null when empty).</summary>
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);

    /// <summary><c>METHOD path</c>.</summary>
    public override string ToString() => $"{Method} {Path}";
}
