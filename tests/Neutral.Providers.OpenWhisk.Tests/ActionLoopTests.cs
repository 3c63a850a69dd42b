using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Neutral.Emulators;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Providers.OpenWhisk.Tests;

public static class ActionLoopFunctions
{
    /// <summary>Fails, naming the <c>__OW_*</c> variables it sees, unless it sees the proxy's and not the namespace key.</summary>
    [Remote]
    public static int SeesNoNamespaceKey()
    {
        string[] names = Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("__OW_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        return names.Contains("__OW_PROXY_VERSION") && !names.Contains("__OW_API_KEY")
            ? names.Length
            : throw new InvalidOperationException("the call sees " + string.Join(", ", names));
    }

    /// <summary>Leaves a line open on standard output and on standard error.</summary>
    [Remote]
    public static int OpenLines(int x)
    {
        Console.Out.Write("open out " + x);
        Console.Error.Write("open err " + x);
        return x;
    }
}

/// <summary>
/// The worker side on OpenWhisk: an <c>exec</c> that is this test assembly's own host, taken over by the startup hook
/// (<c>NEUTRAL_WORKER=openwhisk</c>), run by the action-proxy emulator exactly as OpenWhisk's action proxy runs it:
/// with and without the acknowledgement, never restarted after a death, guard lines after each activation.
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

    private const string NamespaceKey = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:the-namespace-key-must-stay-out";

    private string Activation<T>(RemoteCall<T> call, string job, int index, string extra = "")
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
        return $"{{\"value\":{value},\"namespace\":\"guest\",\"action_name\":\"/guest/neutral\",\"action_version\":\"0.0.1\",\"activation_id\":\"{Guid.NewGuid():N}\",\"transaction_id\":\"{Guid.NewGuid():N}\",\"deadline\":\"{DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds()}\"{extra}}}";
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

    private static JsonElement Parse(ProxyReply reply)
    {
        Assert.True(reply.Ok, $"HTTP {reply.Status}: {reply.Body}");
        return JsonDocument.Parse(reply.Body).RootElement.Clone();
    }

    /// <summary>A proxy in a working directory of its own (not the action's folder), initialized with the test action.</summary>
    private async Task<OpenWhiskActionProxy> StartAsync(IReadOnlyDictionary<string, string> container, string assemblies = TestAction.Assemblies, TimeProvider? time = null)
    {
        var proxy = new OpenWhiskActionProxy(_elsewhere.Path, container, time);
        ProxyReply init = await proxy.InitAsync(Exec(), InitEnvironment(assemblies), Timeout);
        Assert.True(init.Ok, $"/init: HTTP {init.Status}: {init.Body}. Logs: {proxy.Logs}");
        return proxy;
    }

    public static TheoryData<bool> AckModes => new() { true, false };

    private static IReadOnlyDictionary<string, string> Container(bool ack) => ack ? OpenWhiskActionProxy.WithAck : OpenWhiskActionProxy.WithoutAck;

    [Theory]
    [MemberData(nameof(AckModes))]
    public async Task The_exec_serves_several_activations_in_one_process_with_an_empty_environment_with_or_without_the_ack(bool ack)
    {
        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        await using OpenWhiskActionProxy proxy = await StartAsync(Container(ack));

        JsonElement first = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.Square(7), job, 0), Timeout));
        JsonElement second = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.NoPathOrHome(), job, 1), Timeout));
        JsonElement third = Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.Fail(3), job, 2), Timeout));

        Assert.True(first.GetProperty("succeeded").GetBoolean(), first.ToString());
        Assert.True(second.GetProperty("succeeded").GetBoolean(), second.ToString() + proxy.Logs);
        Assert.False(third.GetProperty("succeeded").GetBoolean());
        Assert.Equal("user", third.GetProperty("errorKind").GetString());
        Assert.False(proxy.Exited);
        Assert.Equal(ack, proxy.ExecEnvironment.ContainsKey("__OW_WAIT_FOR_ACK"));
        Assert.Equal(OpenWhiskActionProxy.Version, proxy.ExecEnvironment["__OW_PROXY_VERSION"]);

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
        await using OpenWhiskActionProxy proxy = await StartAsync(OpenWhiskActionProxy.WithAck);
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
    public async Task The_namespace_key_a_cluster_passes_reaches_no_call_no_reply_no_status_and_no_log()
    {
        // What an invoker sends an action without provide-api-key: false: the key in /init's environment and in every /run.
        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        var proxy = new OpenWhiskActionProxy(_elsewhere.Path, OpenWhiskActionProxy.WithAck);
        await using (proxy)
        {
            var environment = InitEnvironment();
            environment["__OW_API_KEY"] = NamespaceKey;
            Assert.True((await proxy.InitAsync(Exec(), environment, Timeout)).Ok, proxy.Logs);
            string withKey = $",\"api_key\":\"{NamespaceKey}\"";

            ProxyReply variables = await proxy.RunAsync(Activation(Remote.ActionLoopFunctions.SeesNoNamespaceKey(), job, 0, withKey), Timeout);
            ProxyReply failing = await proxy.RunAsync(Activation(Remote.MinioFunctions.Fail(3), job, 1, withKey), Timeout);
            ProxyReply malformed = await proxy.RunAsync($"{{\"value\":42{withKey}}}", Timeout);

            foreach (ProxyReply reply in new[] { variables, failing, malformed })
            {
                Assert.True(reply.Ok, reply.Body);
                Assert.DoesNotContain("the-namespace-key", reply.Body, StringComparison.Ordinal);
            }

            Assert.True(Parse(variables).GetProperty("succeeded").GetBoolean(), Encoding.UTF8.GetString((await bucket.Store.GetAsync($"_neutral/{StorageLayout.Status(job, 0)}"))!));
            Assert.NotNull(malformed.Error);
            foreach (int call in new[] { 0, 1 })
            {
                Assert.DoesNotContain("the-namespace-key", Encoding.UTF8.GetString((await bucket.Store.GetAsync($"_neutral/{StorageLayout.Status(job, call)}"))!), StringComparison.Ordinal);
            }

            Assert.DoesNotContain("the-namespace-key", proxy.Logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_activation_that_leaves_a_line_open_still_gets_the_guard_line_on_a_line_of_its_own()
    {
        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        await using OpenWhiskActionProxy proxy = await StartAsync(OpenWhiskActionProxy.WithAck);
        proxy.TakeActivationLogs(); // whatever the start wrote

        Parse(await proxy.RunAsync(Activation(Remote.ActionLoopFunctions.OpenLines(1), job, 0), Timeout));
        IReadOnlyList<string> first = proxy.TakeActivationLogs();
        Parse(await proxy.RunAsync(Activation(Remote.ActionLoopFunctions.OpenLines(2), job, 1), Timeout));
        IReadOnlyList<string> second = proxy.TakeActivationLogs();

        Assert.Equal(["stdout: open out 1", "stderr: open err 1"], first);
        Assert.Equal(["stdout: open out 2", "stderr: open err 2"], second);
        Assert.Equal(2, proxy.Logs.Split('\n').Count(l => l == OpenWhiskActionProxy.OutputGuard) / 2);
    }

    [Fact]
    public async Task With_the_ack_an_exec_that_exits_at_start_fails_init_and_the_logs_say_why()
    {
        await using var proxy = new OpenWhiskActionProxy(_elsewhere.Path, OpenWhiskActionProxy.WithAck);
        ProxyReply init = await proxy.InitAsync(Exec(), InitEnvironment(assemblies: "Neutral.Abstractions"), Timeout);
        Assert.Equal(502, init.Status);
        Assert.Equal("cannot start action: Command exited abruptly during initialization.", init.Error);
        Assert.Contains("no worker runtime 'openwhisk'", proxy.Logs, StringComparison.Ordinal);
        Assert.Equal(500, (await proxy.RunAsync("{\"value\":{}}", Timeout)).Status);
    }

    [Fact]
    public async Task Without_the_ack_an_exec_that_exits_at_start_passes_init_and_fails_its_first_run_and_is_never_restarted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var proxy = new OpenWhiskActionProxy(_elsewhere.Path, OpenWhiskActionProxy.WithoutAck, time);
        ProxyReply init = await proxy.InitAsync(Exec(), InitEnvironment(assemblies: "Neutral.Abstractions"), Timeout);
        Assert.True(init.Ok, init.Body);
        await WaitForExitAsync(proxy);
        Assert.Contains("no worker runtime 'openwhisk'", proxy.Logs, StringComparison.Ordinal);

        ProxyReply run = await proxy.RunAsync("{\"value\":{}}", Timeout);
        Assert.Equal((500, "command exited"), (run.Status, run.Error));
        await AssertDeadAfterIdleExitAsync(proxy, time);
    }

    [Fact]
    public async Task An_exec_killed_during_an_activation_fails_it_and_every_later_run_and_init_is_refused()
    {
        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        await using OpenWhiskActionProxy proxy = await StartAsync(OpenWhiskActionProxy.WithAck);
        // Once /run has the line, the activation is under way as far as the proxy knows, whether or not the call started.
        Task<ProxyReply> hanging = proxy.RunAsync(Activation(Remote.ActionFaultFunctions.HangOnFirstAttempt(1), job, 0), Timeout);
        await proxy.KillAsync();

        ProxyReply killed = await hanging;
        Assert.Equal((400, "command exited"), (killed.Status, killed.Error));
        ProxyReply next = await proxy.RunAsync(Activation(Remote.MinioFunctions.Square(2), job, 1), Timeout);
        Assert.Equal((500, "no action defined yet"), (next.Status, next.Error));
        ProxyReply again = await proxy.InitAsync(Exec(), InitEnvironment(), Timeout);
        Assert.Equal((403, "Cannot initialize the action more than once."), (again.Status, again.Error));
        Assert.Contains(OpenWhiskActionProxy.OutputGuard, proxy.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exec_that_died_while_idle_gets_one_500_then_the_next_run_hangs_until_the_invokers_timeout()
    {
        string job = "ow-" + Guid.NewGuid().ToString("N")[..8];
        await StageAsync(job);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using OpenWhiskActionProxy proxy = await StartAsync(OpenWhiskActionProxy.WithAck, time: time);
        Parse(await proxy.RunAsync(Activation(Remote.MinioFunctions.Square(2), job, 0), Timeout));
        await proxy.KillAsync();

        ProxyReply first = await proxy.RunAsync(Activation(Remote.MinioFunctions.Square(3), job, 1), Timeout);
        Assert.Equal((500, "command exited"), (first.Status, first.Error));
        await AssertDeadAfterIdleExitAsync(proxy, time);
    }

    /// <summary>After the one 500: a second /init is refused, and a /run gets no answer until the invoker's timeout.</summary>
    private static async Task AssertDeadAfterIdleExitAsync(OpenWhiskActionProxy proxy, FakeTimeProvider time)
    {
        ProxyReply again = await proxy.InitAsync("/bin/true", new Dictionary<string, string>(), Timeout);
        Assert.Equal(403, again.Status);
        // The invoker's timeout runs on the fake clock, from the moment /run is sent: an answer would come without it.
        Task<ProxyReply> hanging = proxy.RunAsync("{\"value\":{}}", Timeout);
        time.Advance(Timeout);
        await Assert.ThrowsAsync<TimeoutException>(() => hanging);
    }

    private static Task WaitForExitAsync(OpenWhiskActionProxy proxy) => FakeClockDriver.WaitForAsync(() => proxy.Exited, "the exec to exit");
}
