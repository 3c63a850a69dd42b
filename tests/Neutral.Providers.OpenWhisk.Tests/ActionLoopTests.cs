using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Neutral.Emulators;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Providers.OpenWhisk.Tests;

/// <summary>
/// The worker side on OpenWhisk: an <c>exec</c> that is this test assembly's own host, taken over by the startup hook
/// (<c>NEUTRAL_WORKER=openwhisk</c>), run by the action-proxy emulator exactly as OpenWhisk's action proxy runs it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ActionLoopTests(S3Bucket bucket) : IClassFixture<S3Bucket>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _action = new("neutral-action");
    private readonly TempFolder _elsewhere = new("neutral-proxy-cwd");

    public void Dispose()
    {
        _action.Dispose();
        _elsewhere.Dispose();
    }

    private string Exec() => TestAction.Exec(_action.Path);

    private static Dictionary<string, string> InitEnvironment(string assemblies = TestAction.Assemblies) => TestAction.Environment(assemblies);

    private string Activation<T>(RemoteCall<T> call, string job, int index)
    {
        var envelope = new InvocationEnvelope
        {
            JobId = job,
            CallIndex = index,
            FunctionId = call.Function.Id,
            SignatureHash = InvocationEnvelope.FormatHash(call.Function.SignatureHash),
            InlineInput = call.Arguments.ToArray(),
            Attempt = 1,
            Store = new StoreLocation(OpenWhiskProvider.StoreKind, OpenWhiskProvider.LocationOf(S3Bucket.Settings, bucket.Name), Cloud.InternalPrefix),
        };
        string value = Encoding.UTF8.GetString(WireJson.Serialize(envelope));
        return $"{{\"value\":{value},\"namespace\":\"guest\",\"action_name\":\"neutral\",\"activation_id\":\"{Guid.NewGuid():N}\",\"deadline\":\"{DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds()}\"}}";
    }

    /// <summary>
    /// The job's manifest, as the client stages it: a call that runs a second or more (a cold first activation can)
    /// checks it before writing, and writes nothing for a job that is gone.
    /// </summary>
    private Task StageAsync(string job) =>
        bucket.Store.PutAsync(Cloud.InternalPrefix + StorageLayout.Manifest(job), WireJson.Serialize(new JobManifest
        {
            JobId = job,
            FunctionId = "F()",
            SignatureHash = "0000000000000000",
            CallCount = 3,
            ClientVersion = "0",
            Owner = "test/1/1",
        }));

    private static JsonElement Parse(string reply) => JsonDocument.Parse(reply).RootElement.Clone();

    [Fact]
    public async Task The_exec_acknowledges_then_serves_several_activations_in_one_process_with_an_empty_environment()
    {
        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        await using OpenWhiskActionProxy proxy = await OpenWhiskActionProxy.StartAsync(Exec(), InitEnvironment(), _elsewhere.Path, waitForAck: true, Timeout);

        JsonElement first = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.Square(7), job, 0), Timeout));
        JsonElement second = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.NoPathOrHome(), job, 1), Timeout));
        JsonElement third = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.Fail(3), job, 2), Timeout));

        Assert.True(first.GetProperty("succeeded").GetBoolean(), first.ToString());
        Assert.True(second.GetProperty("succeeded").GetBoolean(), second.ToString() + proxy.Logs);
        Assert.False(third.GetProperty("succeeded").GetBoolean());
        Assert.Equal("user", third.GetProperty("errorKind").GetString());
        Assert.False(proxy.Exited);

        // The outcomes are in the bucket, where the client reads them.
        for (int i = 0; i < 3; i++)
        {
            byte[]? status = await bucket.Store.GetAsync($"_neutral/{StorageLayout.Status(job, i)}");
            Assert.NotNull(status);
        }
    }

    [Fact]
    public async Task A_malformed_activation_is_answered_with_an_error_object_and_the_loop_goes_on()
    {
        await using OpenWhiskActionProxy proxy = await OpenWhiskActionProxy.StartAsync(Exec(), InitEnvironment(), _elsewhere.Path, waitForAck: true, Timeout);
        JsonElement garbage = Parse(await proxy.RunAsync("this is not JSON", Timeout));
        Assert.Contains("not a Neutral invocation", garbage.GetProperty("error").GetString(), StringComparison.Ordinal);
        JsonElement noValue = Parse(await proxy.RunAsync("{\"activation_id\":\"x\"}", Timeout));
        Assert.Contains("\"value\"", noValue.GetProperty("error").GetString(), StringComparison.Ordinal);

        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        JsonElement good = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.Square(3), job, 0), Timeout));
        Assert.True(good.GetProperty("succeeded").GetBoolean());
    }

    [Fact]
    public async Task An_exec_without_the_provider_loaded_says_so_and_exits_before_Main()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using OpenWhiskActionProxy proxy = await OpenWhiskActionProxy.StartAsync(Exec(), InitEnvironment(assemblies: "Neutral.Abstractions"), _elsewhere.Path, waitForAck: true, Timeout);
        });
        Assert.Contains("command exited (code 4)", error.Message, StringComparison.Ordinal);
        Assert.Contains("no worker runtime 'openwhisk'", error.Message, StringComparison.Ordinal);
    }
}
