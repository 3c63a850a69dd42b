using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers;

/// <summary>
/// What every <c>NEUTRAL_WORKER={provider}-deploy</c> runtime does around its deployment: read the configuration a client
/// would (<c>neutral.json</c>, <c>appsettings.json</c>, <c>NEUTRAL__*</c>), deploy, print the one-line summary, and exit
/// 0; on an expected failure print "neutral: the {what} was not deployed: ..." to standard error and exit 2.
/// </summary>
public static class SelfDeploymentRunner
{
    /// <summary>Runs <paramref name="deploy"/> as the process's deployment runtime.</summary>
    /// <param name="what">What is deployed, for the failure line ("function", "action", "Function App").</param>
    /// <param name="deploy">Deploys with the configuration; returns the summary line.</param>
    /// <param name="expected">
    /// The provider's own expected failures (its SDK's service errors), besides configuration errors, refusals
    /// (<see cref="InvalidOperationException"/>, <see cref="ArgumentException"/>), I/O and HTTP failures.
    /// </param>
    /// <param name="cancellationToken">Stops the deployment.</param>
    public static async Task RunAsync(string what, Func<IConfiguration, CancellationToken, Task<string>> deploy, Func<Exception, bool>? expected, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);
        ArgumentNullException.ThrowIfNull(deploy);
        try
        {
            Console.WriteLine(await deploy(NeutralConfiguration.Default(), cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is NeutralConfigurationException or InvalidOperationException or IOException or ArgumentException
            or System.Net.Http.HttpRequestException || expected?.Invoke(e) == true)
        {
            Console.Error.WriteLine($"neutral: the {what} was not deployed: " + e.Message);
            Environment.Exit(2);
        }
    }
}
