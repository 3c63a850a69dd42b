using System.CommandLine;
using System.IO;
using System.Threading.Tasks;

namespace Neutral.Cli;

/// <summary><c>neutral init</c>: a commented <c>neutral.json</c> for one provider, naming each key and where secrets go.</summary>
internal static class InitCommand
{
    private const string Header = """
        // neutral.json: Neutral's settings for this app (README, "Configuration"). appsettings.json is read too, and
        // every key can be set by an environment variable instead, which wins: NEUTRAL__JOB__RETRIES=3 sets
        // Neutral:Job:Retries. Secrets go in environment variables, never in this file. `neutral config` shows what
        // the app will use and where each value comes from.
        """;

    private const string JobSection = """
            "Job": {
              // Attempts after the first, for platform faults (a lost worker, a throttled invoke).
              "Retries": 2,
              // How long one attempt may run, in seconds ([Remote(TimeoutSeconds = ...)] wins for its method).
              "TimeoutSeconds": 300
            }
        """;

    public static Command Create(ToolContext context)
    {
        Option<string> provider = new("--provider", "-p")
        {
            Description = "The provider the file is for: local (the default), aws, azure or openwhisk.",
            DefaultValueFactory = _ => "local",
        };
        provider.AcceptOnlyFromAmong("local", "aws", "azure", "openwhisk");
        Option<bool> force = new("--force") { Description = "Overwrite an existing neutral.json." };
        Command command = new("init", "Writes a commented neutral.json for a provider. Example: neutral init --provider aws")
        {
            provider,
            force,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            string path = Path.Combine(context.Directory, "neutral.json");
            if (File.Exists(path) && !parsed.GetValue(force))
            {
                throw new ToolException($"{path} exists: edit it, or run neutral init --force to replace it.");
            }

            string name = parsed.GetValue(provider)!;
            await File.WriteAllTextAsync(path, Template(name), cancellationToken);
            await context.Output.WriteLineAsync($"Wrote {path} for the {name} provider. {NextStep(name)}");
            return 0;
        });
        return command;
    }

    /// <summary>What to do after writing the file.</summary>
    private static string NextStep(string provider) => provider switch
    {
        "aws" => "Fill in the region, and uncomment and fill in the bucket and the role; credentials come from the AWS SDK's chain (aws configure), or NEUTRAL__AWS__ACCESSKEYID and NEUTRAL__AWS__SECRETACCESSKEY.",
        "azure" => "Fill in the container and app; set NEUTRAL__AZURE__CONNECTIONSTRING to the storage account's connection string.",
        "openwhisk" => "Fill in the controller and the MinIO store; set NEUTRAL__OPENWHISK__AUTHKEY and NEUTRAL__MINIO__SECRETKEY.",
        _ => "Run your app: calls run in worker processes on this machine.",
    };

    /// <summary>The file for <paramref name="provider"/>: JSON with comments, which the configuration reader accepts.</summary>
    internal static string Template(string provider) => provider switch
    {
        "aws" => Header + """

            {
              "Neutral": {
                // Calls run as AWS Lambda invocations; job data lives in S3.
                "Compute": "aws",
                "Aws": {
                  // The region of the bucket and the function.
                  "Region": "us-east-1",
                  // The bucket job data goes to (created if missing); the deployed tables are kept there too.
                  // Fill in yours and remove the slashes (until then, jobs, doctor and deploy say it is missing).
                  // "Bucket": "my-neutral-bucket",
                  // The Lambda function's name (created by deploying the app).
                  "Function": "neutral",
                  // Deployment only: the function's execution role (S3 rights on the bucket, CloudWatch Logs).
                  // "Role": "arn:aws:iam::ACCOUNT:role/neutral-worker",
                  // Credentials: the AWS SDK's chain (environment, profile, SSO, role), or AccessKeyId here with the
                  // secret in the variable NEUTRAL__AWS__SECRETACCESSKEY.
                },

            """ + JobSection + """

              }
            }

            """,
        "azure" => Header + """

            {
              "Neutral": {
                // Calls run on an Azure Function App (a queue message each); job data lives in Blob storage.
                "Compute": "azure",
                "Azure": {
                  // The Blob container job data goes to (created if missing).
                  "Container": "neutral",
                  // The Function App's name (created by deploying the app).
                  "App": "my-neutral-app",
                  // The app's trigger queue.
                  "Queue": "neutral-calls",
                  // Deployment only: where the app is, and its region.
                  "SubscriptionId": "00000000-0000-0000-0000-000000000000",
                  "ResourceGroup": "neutral",
                  "Location": "eastus"
                  // The storage account's connection string goes in the variable NEUTRAL__AZURE__CONNECTIONSTRING
                  // (or set AccountUrl here to sign in with Entra ID).
                },

            """ + JobSection + """

              }
            }

            """,
        "openwhisk" => Header + """

            {
              "Neutral": {
                // Calls run as OpenWhisk actions; job data lives in a MinIO (S3-compatible) bucket.
                "Compute": "openwhisk",
                "OpenWhisk": {
                  // The controller's address, as `wsk property get --apihost` shows.
                  "ApiHost": "https://openwhisk.example.com",
                  // The action (created by deploying the app).
                  "Action": "neutral"
                  // The namespace's key (uuid:key, `wsk property get --auth`) goes in NEUTRAL__OPENWHISK__AUTHKEY.
                },
                "Minio": {
                  // The store's host and port, no scheme; Secure true for https.
                  "Endpoint": "minio.example.com:9000",
                  "Secure": true,
                  "Bucket": "neutral",
                  "AccessKey": "neutral"
                  // The secret key goes in NEUTRAL__MINIO__SECRETKEY.
                },

            """ + JobSection + """

              }
            }

            """,
        _ => Header + """

            {
              "Neutral": {
                // Calls run in worker processes of this app on this machine.
                "Compute": "local",
                "Local": {
                  // Worker processes; 0 means one per core.
                  "Workers": 0,
                  // The folder of the local store, relative to where the app runs (add it to .gitignore).
                  "Root": ".neutral"
                },

            """ + JobSection + """

              }
            }

            """,
    };
}
