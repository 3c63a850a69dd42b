using System.Collections.Generic;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers.Redis.Tests;

/// <summary>What self-deployments (Lambda, Azure Functions, OpenWhisk) bind to the function for the job's named stores.</summary>
public sealed class DeployedVariablesTests
{
    private static Dictionary<string, string> Deployed(params (string Key, string Value)[] settings)
    {
        RedisProvider.Register();
        var values = new Dictionary<string, string?>();
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        IConfiguration neutral = new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(NeutralConfiguration.Section);
        return ProviderSettings.WorkerEnvironment("aws", nativeAot: false, neutral.GetSection("Aws"), "Neutral:Aws:", neutral);
    }

    [Theory]
    [InlineData("Neutral:Redis:Configuration", "10.0.0.5:6379,password=s3cret-from-string")]
    [InlineData("Neutral:Redis:Password", "s3cret-from-string")]
    public void A_named_Redis_store_with_a_password_binds_it_to_the_deployed_function(string key, string value)
    {
        var environment = Deployed(("Neutral:Stores:scratch:Kind", "redis"), ("Neutral:Redis:Configuration", "10.0.0.5:6379"), (key, value));
        Assert.Equal("s3cret-from-string", environment[RedisProvider.PasswordVariable]);
        Assert.Equal("aws", environment["NEUTRAL_WORKER"]);
    }

    [Fact]
    public void Without_a_password_or_a_named_Redis_store_nothing_is_bound()
    {
        Assert.DoesNotContain(RedisProvider.PasswordVariable, Deployed(("Neutral:Stores:scratch", "redis"), ("Neutral:Redis:Configuration", "10.0.0.5:6379")).Keys);
        Assert.DoesNotContain(RedisProvider.PasswordVariable, Deployed(("Neutral:Redis:Configuration", "10.0.0.5:6379,password=unused")).Keys);
    }

    [Fact]
    public void A_named_store_of_a_kind_the_workers_cannot_open_fails_the_deployment_naming_the_key()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Deployed(("Neutral:Stores:scratch:Kind", "nosuchkind")));
        Assert.Equal("Neutral:Stores:scratch:Kind", error.Key);
        Assert.Contains("package", error.Message, System.StringComparison.Ordinal);
    }
}
