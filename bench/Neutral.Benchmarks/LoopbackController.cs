using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Dispatch;
using Neutral.Wire;

namespace Neutral.Benchmarks;

/// <summary>
/// The least an OpenWhisk controller can be: a Kestrel server on 127.0.0.1 that answers every invoke (<c>POST
/// .../actions/{action}</c>) with <c>202 {"activationId"}</c> at once, and the action (<c>GET .../actions/{action}</c>)
/// with this process's dispatch tables as its <c>neutral-tables</c> annotation. It does not check the key. What it does
/// with an invocation is up to <c>onInvoke</c> (nothing, or hand it to in-process workers).
/// </summary>
public sealed class LoopbackController : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _invocations;

    private LoopbackController(WebApplication app) => _app = app;

    /// <summary>Where the API is.</summary>
    public Uri ApiHost { get; private set; } = null!;

    /// <summary>Invocations answered.</summary>
    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>Starts the server; <paramref name="onInvoke"/> gets each invocation's body (the envelope's JSON).</summary>
    public static async Task<LoopbackController> StartAsync(Action<byte[]>? onInvoke = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var controller = new LoopbackController(app);
        byte[] action = ActionRecord();
        app.Run(async context =>
        {
            HttpRequest request = context.Request;
            if (HttpMethods.IsPost(request.Method))
            {
                var body = new System.IO.MemoryStream();
                await request.Body.CopyToAsync(body);
                onInvoke?.Invoke(body.ToArray());
                Interlocked.Increment(ref controller._invocations);
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"activationId\":\"" + Guid.NewGuid().ToString("N") + "\"}");
            }
            else
            {
                context.Response.ContentType = "application/json";
                await context.Response.Body.WriteAsync(action);
            }
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        controller.ApiHost = new Uri(address.EndsWith('/') ? address : address + "/");
        return controller;
    }

    /// <summary>The action as <c>GET .../actions/{name}?code=false</c> shows it: the annotation a deployment writes.</summary>
    private static byte[] ActionRecord()
    {
        Dictionary<string, string> tables = RemoteDispatch.Functions.ToDictionary(f => f.Id, f => InvocationEnvelope.FormatHash(f.SignatureHash), StringComparer.Ordinal);
        var record = new Dictionary<string, object>
        {
            ["name"] = "neutral",
            ["annotations"] = new[] { new Dictionary<string, object> { ["key"] = Neutral.Providers.OpenWhisk.Compute.OpenWhiskDeployer.TablesAnnotation, ["value"] = tables } },
        };
        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
