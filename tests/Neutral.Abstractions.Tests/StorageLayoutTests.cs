using System;
using Neutral.Wire;

namespace Neutral.Tests;

/// <summary>
/// Every key's exact text. Deployed workers, deployment records and clients of other builds find each other's objects by
/// these names: a change here breaks them, so it must be a protocol change (see DESIGN.md, "The call protocol").
/// </summary>
public sealed class StorageLayoutTests
{
    private const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string ZipSha256 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    [Fact]
    public void The_folders_from_the_store_root_are_pinned()
    {
        Assert.Equal("_neutral/", StorageLayout.InternalPrefix);
        Assert.Equal("_neutral/jobs/", StorageLayout.InternalJobsFolder);
        Assert.Equal("_neutral/deployments/", StorageLayout.DeploymentsFolder);
    }

    [Fact]
    public void The_call_protocol_keys_are_pinned()
    {
        Assert.Equal("jobs/", StorageLayout.JobsFolder);
        Assert.Equal("jobs/j1/", StorageLayout.Job("j1"));
        Assert.Equal("jobs/j1/job.json", StorageLayout.Manifest("j1"));
        Assert.Equal("jobs/j1/input.bin", StorageLayout.Input("j1"));
        Assert.Equal("jobs/j1/shared/h", StorageLayout.Shared("j1", "h"));
        Assert.Equal("jobs/j1/calls/", StorageLayout.Calls("j1"));
        Assert.Equal("jobs/j1/calls/000042/", StorageLayout.Call("j1", 42));
        Assert.Equal("jobs/j1/calls/000042/started.3", StorageLayout.Started("j1", 42, 3));
        Assert.Equal("jobs/j1/calls/000042/output.3", StorageLayout.Output("j1", 42, 3));
        Assert.Equal("jobs/j1/calls/000042/failed.3", StorageLayout.Failed("j1", 42, 3));
        Assert.Equal("jobs/j1/calls/000042/status", StorageLayout.Status("j1", 42));
        Assert.Equal("jobs/j1/calls/1234567/status", StorageLayout.Status("j1", 1_234_567));
    }

    [Fact]
    public void The_client_keys_are_pinned()
    {
        Assert.Equal("clients/c1", StorageLayout.Client("c1"));
        Assert.Equal("shared/", StorageLayout.SharedFolder);
        Assert.Equal("shared/c1/", StorageLayout.ClientShared("c1"));
        Assert.Equal("shared/c1/" + Digest, StorageLayout.ClientShared("c1", Digest));
        Assert.Equal("shuffles/c1/", StorageLayout.ClientShuffles("c1"));
    }

    [Fact]
    public void The_deployment_keys_are_pinned()
    {
        Assert.Equal("_neutral/deployments/tables/" + Digest + ".txt", StorageLayout.LambdaTables(Digest));
        Assert.Equal("_neutral/deployments/code/neutral-worker-fedcba9876543210.zip", StorageLayout.LambdaCode("neutral-worker", ZipSha256));
        Assert.Equal("_neutral/deployments/azure/my-app.tables", StorageLayout.AzureRecord("my-app"));
        Assert.Equal("_neutral/deployments/azure/my-app/0123456789abcdef-fedcba9876543210.zip", StorageLayout.AzurePackage("my-app", Digest, ZipSha256));
    }

    [Fact]
    public void A_deployment_key_refuses_a_digest_too_short_to_shorten()
    {
        var error = Assert.Throws<ArgumentException>(() => StorageLayout.LambdaCode("f", "abc"));
        Assert.Contains("'abc'", error.Message, StringComparison.Ordinal);
    }
}
