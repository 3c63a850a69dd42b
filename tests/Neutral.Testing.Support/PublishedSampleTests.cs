using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using Neutral.Providers;
using Xunit;

namespace Neutral.Testing;

/// <summary>
/// What a user does, on each compute provider's emulated platform: publish the MonteCarlo sample for linux-x64 (no
/// worker project), let the published executable deploy itself (<c>NEUTRAL_WORKER={compute}-deploy</c>, the command
/// the README gives), then run the same executable as the client with the provider's compute and store, configuration
/// only: 1,000 calls served by the published executable. A provider's test class supplies the platform, the publish and
/// the settings, and checks what its deployment wrote and what its platform ran.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync.")]
public abstract class PublishedSampleTests : IAsyncLifetime
{
    private readonly TempFolder _work = new("neutral-publish");

    /// <summary>The folder the application runs in.</summary>
    protected string WorkFolder => _work.Path;

    /// <summary>The compute's name (<c>Neutral:Compute</c>; its deployment runtime is <c>{Compute}-deploy</c>).</summary>
    protected abstract string Compute { get; }

    /// <summary>The store's name (<c>Neutral:Storage</c>).</summary>
    protected abstract string Storage { get; }

    /// <summary>Publishes <paramref name="project"/> into <paramref name="output"/> as the provider's deployer does.</summary>
    protected abstract Task<PublishedWorker> PublishAsync(string project, string output);

    /// <summary>Starts what the deployment talks to (the emulated control plane).</summary>
    protected abstract Task StartAsync();

    /// <summary>The variables both the deployment and the client get (where the store and the platform are).</summary>
    protected abstract Dictionary<string, string> Settings();

    /// <summary>The variables only the deployment gets (its role, timeout, management endpoint, ...).</summary>
    protected abstract Dictionary<string, string> DeploymentSettings();

    /// <summary>Checks the publish (e.g. that it is NativeAOT).</summary>
    protected virtual void CheckPublished(PublishedWorker published)
    {
    }

    /// <summary>Checks the dry run's plan, run before the deployment: nothing reached the platform.</summary>
    protected abstract void CheckPlanBeforeDeployment(string plan);

    /// <summary>Checks that the plan showed the requests the deployment then sent.</summary>
    protected abstract void CheckPlanAgainstDeployment(string plan);

    /// <summary>Checks the deployment's summary line and what it sent the platform; may start the platform's workers.</summary>
    protected abstract Task CheckDeploymentAsync(PublishedWorker published, string output);

    /// <summary>Checks what the platform ran for the job's 1,000 calls.</summary>
    protected abstract void CheckRun();

    /// <summary>Stops the platform and removes what the test created.</summary>
    protected abstract Task StopAsync();

    [Fact]
    public async Task The_published_sample_deploys_itself_and_runs_a_1000_call_MonteCarlo_job()
    {
        // Published once for every provider's test process (they run in parallel and would share the sample's obj folder).
        string project = Path.Combine(PublishedApp.Repository(), "samples", "MonteCarlo");
        PublishedWorker published = await PublishedApp.PublishOnceAsync(project, output => PublishAsync(project, output));
        Assert.Equal("MonteCarlo", published.Executable);
        CheckPublished(published);
        string app = Path.Combine(published.Folder, published.Executable);

        var deployment = new Dictionary<string, string>(Settings())
        {
            ["NEUTRAL_WORKER"] = Compute + "-deploy",
            ["DOTNET_STARTUP_HOOKS"] = "Neutral.Workers",
        };
        foreach (var (name, value) in DeploymentSettings())
        {
            deployment[name] = value;
        }

        // The dry run first (neutral deploy --dry-run): the requests listed, none sent.
        var (planCode, plan) = await PublishedApp.RunAsync(app, WorkFolder, new Dictionary<string, string>(deployment) { [DeploymentPlan.Variable] = "1" });
        Assert.True(planCode == 0, plan);
        Assert.StartsWith("Dry run, nothing sent: MonteCarlo (", plan, StringComparison.Ordinal);
        CheckPlanBeforeDeployment(plan);

        var (deployCode, deployOutput) = await PublishedApp.RunAsync(app, WorkFolder, deployment);
        Assert.True(deployCode == 0, deployOutput);
        CheckPlanAgainstDeployment(plan);
        await CheckDeploymentAsync(published, deployOutput);

        var (code, output) = await PublishedApp.RunAsync(app, WorkFolder, new Dictionary<string, string>(Settings())
        {
            ["NEUTRAL__COMPUTE"] = Compute,
            ["NEUTRAL__STORAGE"] = Storage,
        }, "--calls", "1000", "--samples", "20000");
        Assert.True(code == 0, output);
        Assert.Contains($"on '{Compute}'", output, StringComparison.Ordinal);
        Assert.Matches(@"pi ~ 3\.1[0-9]+", output);
        CheckRun();
    }

    /// <inheritdoc/>
    public Task InitializeAsync() => StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _work.Dispose();
        }
    }
}
