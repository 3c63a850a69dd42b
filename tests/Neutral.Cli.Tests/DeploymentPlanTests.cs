using System;
using Neutral.Providers;

namespace Neutral.Cli.Tests;

/// <summary>What a dry run shows of a request body: the package elided, every secret hidden, the rest as sent.</summary>
public sealed class DeploymentPlanTests
{
    [Theory]
    [InlineData("AZURE_STORAGE_CONNECTION_STRING", true)]
    [InlineData("AzureWebJobsStorage", true)]
    [InlineData("AWS_SECRET_ACCESS_KEY", true)]
    [InlineData("NEUTRAL__REDIS__PASSWORD", true)]
    [InlineData("NEUTRAL__MINIO__SECRETKEY", true)]
    [InlineData("AWS_SESSION_TOKEN", true)]
    [InlineData("AWS_ACCESS_KEY_ID", false)]
    [InlineData("NEUTRAL_TABLES", false)]
    [InlineData("NEUTRAL_WORKER", false)]
    [InlineData("WEBSITE_RUN_FROM_PACKAGE", false)]
    public void Secret_names_are_told_apart_underscores_or_not(string name, bool secret) =>
        Assert.Equal(secret, DeploymentPlan.IsSecretName(name));

    [Fact]
    public void Bodies_hide_secrets_by_name_and_by_value_and_elide_the_package()
    {
        string zip = Convert.ToBase64String(new byte[3000]);
        string shown = DeploymentPlan.Show($$"""
            { "Code": { "ZipFile": "{{zip}}" },
              "Environment": { "Variables": { "NEUTRAL_WORKER": "aws", "NEUTRAL__REDIS__PASSWORD": "hunter2" } },
              "parameters": [ { "key": "AZURE_STORAGE_CONNECTION_STRING", "value": "AccountName=a;AccountKey=c2VjcmV0", "init": true },
                              { "key": "NEUTRAL_WORKER", "value": "openwhisk" } ],
              "properties": [ { "name": "WEBSITE_RUN_FROM_PACKAGE", "value": "https://a.blob.core.windows.net/c/p.zip?sv=1&sig=abc" },
                              { "name": "FUNCTIONS_WORKER_RUNTIME", "value": "custom" } ] }
            """);
        Assert.DoesNotContain("hunter2", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=abc", shown, StringComparison.Ordinal);
        Assert.DoesNotContain(zip, shown, StringComparison.Ordinal);
        Assert.Contains("(the package: 0.0 MiB zip, sha256 ", shown, StringComparison.Ordinal);
        // Names stay, and values that are not secrets.
        Assert.Contains("\"key\": \"AZURE_STORAGE_CONNECTION_STRING\"", shown, StringComparison.Ordinal);
        Assert.Contains("\"NEUTRAL_WORKER\": \"aws\"", shown, StringComparison.Ordinal);
        Assert.Contains("\"value\": \"openwhisk\"", shown, StringComparison.Ordinal);
        Assert.Contains("\"value\": \"custom\"", shown, StringComparison.Ordinal);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(shown, "\\(hidden\\)"));
    }

    [Fact]
    public void A_body_that_is_not_JSON_is_shown_as_it_is() =>
        Assert.Equal("id=hash", DeploymentPlan.Show("id=hash"));
}
