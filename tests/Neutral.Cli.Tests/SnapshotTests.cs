using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Neutral.Storage;
using Neutral.Testing;
using Neutral.Wire;

namespace Neutral.Cli.Tests;

/// <summary>
/// The tool's output for a job written into a local store with fixed times, hosts and errors (as workers write them),
/// so that every character is the same on every run: <c>status</c>, <c>plot</c> (SVG and HTML) and <c>config</c>.
/// </summary>
public sealed class SnapshotTests : IDisposable
{
    private const string Job = "20261206-120000-0a1b2c3d4e";
    private static readonly DateTimeOffset Submitted = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _app = new("neutral-snapshot");

    public void Dispose() => _app.Dispose();

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Tool.RunAsync(args, _app.Path, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Four calls: two succeeded on two hosts, one failed for good, one running (started, no outcome).</summary>
    private async Task WriteJobAsync()
    {
        var store = new PrefixedObjectStore(new Workers.Storage.FileSystemObjectStore(Path.Combine(_app.Path, ".neutral")), Cloud.InternalPrefix);
        await store.PutAsync(StorageLayout.Manifest(Job), WireJson.Serialize(new JobManifest
        {
            JobId = Job,
            FunctionId = "MyApp.Pricing.Quote(int)",
            SignatureHash = "0123456789abcdef",
            CallCount = 4,
            ClientVersion = "0.1.0",
            Owner = "another-host/4242/638000000000000000",
            Created = Submitted,
        }));
        async Task StatusAsync(int call, bool ok, double start, double end, string host, RemoteError? error = null)
        {
            await store.PutAsync(StorageLayout.Started(Job, call, 1), Encoding.UTF8.GetBytes(host));
            await store.PutAsync(StorageLayout.Status(Job, call), WireJson.Serialize(new StatusRecord
            {
                JobId = Job,
                CallIndex = call,
                Attempt = 1,
                Succeeded = ok,
                Error = error,
                WorkerStart = Submitted.AddSeconds(start),
                WorkerEnd = Submitted.AddSeconds(end),
                Host = host,
                Log = $"quote {call}\n",
            }));
        }

        await StatusAsync(0, true, 0.25, 1.5, "lambda/sandbox-0");
        await StatusAsync(1, true, 0.30, 2.0, "lambda/sandbox-1");
        await StatusAsync(2, false, 0.5, 0.75, "lambda/sandbox-0", new RemoteError(RemoteError.UserKind, "System.ArgumentException", "no price for item 2\n   (more)", null));
        await store.PutAsync(StorageLayout.Started(Job, 3, 1), Encoding.UTF8.GetBytes("lambda/sandbox-1"));
    }

    [Fact]
    public async Task Status_of_a_job_as_workers_wrote_it()
    {
        await WriteJobAsync();
        var (code, output, error) = await RunAsync("status", Job);
        Assert.True(code == 1, output + error);
        OutputSnapshot.Verify(output, "status");
    }

    [Fact]
    public async Task Plot_of_a_job_as_workers_wrote_it_in_SVG_and_HTML()
    {
        await WriteJobAsync();
        var (code, output, error) = await RunAsync("plot", Job, "-o", "t.svg");
        Assert.True(code == 0, error);
        Assert.Equal($"Wrote {Path.Combine(_app.Path, "t.svg")}: 3 of 4 calls have run.\n", output.ReplaceLineEndings("\n"));
        OutputSnapshot.Verify(await File.ReadAllTextAsync(Path.Combine(_app.Path, "t.svg")), "plot.svg");
        (code, _, error) = await RunAsync("plot", Job, "-o", "t.html");
        Assert.True(code == 0, error);
        OutputSnapshot.Verify(await File.ReadAllTextAsync(Path.Combine(_app.Path, "t.html")), "plot.html");
    }

    [Fact]
    public async Task Config_of_an_AWS_app_with_its_secret_masked()
    {
        await File.WriteAllTextAsync(Path.Combine(_app.Path, "neutral.json"), """
            { "Neutral": { "Compute": "aws", "Storage": "s3", "Job": { "Retries": 3 },
                           "Aws": { "Region": "eu-west-1", "Bucket": "my-bucket", "AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } } }
            """);
        var (code, output, error) = await RunAsync("config");
        Assert.True(code == 0, error);
        Assert.DoesNotContain("wJalrXUtnFEMI", output, StringComparison.Ordinal);
        // The table's widths follow the folder's path: compared with runs of spaces and rules made one.
        string normal = System.Text.RegularExpressions.Regex.Replace(output.Replace(_app.Path, "{app}", StringComparison.Ordinal), "( )+|(─)+", "$1$2");
        OutputSnapshot.Verify(normal, "config.aws");
    }
}
