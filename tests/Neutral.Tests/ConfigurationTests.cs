using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neutral.Providers;
using Neutral.Testing;

namespace Neutral.Tests;

public sealed class ConfigurationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values)
    {
        var dictionary = new Dictionary<string, string?>();
        foreach (var (key, value) in values)
        {
            dictionary[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(dictionary).Build();
    }

    [Theory]
    [InlineData("Neutral:Compute", "gcp", "no provider of that name is registered. Available here: local.")]
    [InlineData("Neutral:Storage", "ftp", "no provider of that name is registered. Available here: local.")]
    [InlineData("Neutral:Local:Workers", "-1", "whole number from 0 to 4096")]
    [InlineData("Neutral:Local:Workers", "many", "whole number from 0 to 4096")]
    [InlineData("Neutral:Local:Isolation", "container", "allowed values are process")]
    [InlineData("Neutral:Local:JobData", "tmpfs", "allowed values are memory")]
    [InlineData("Neutral:Job:Retries", "-3", "whole number from 0 to 100")]
    [InlineData("Neutral:Job:TimeoutSeconds", "0", "whole number from 1")]
    [InlineData("Neutral:Job:Speculation", "maybe", "true or false")]
    [InlineData("Neutral:Job:CallsPerInvocation", "0", "it must be auto or a whole number from 1 to 1000")]
    [InlineData("Neutral:Job:CallsPerInvocation", "automatic", "it must be auto or a whole number from 1 to 1000")]
    public void A_wrong_value_names_the_key_the_value_and_what_is_allowed(string key, string value, string allowed)
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(Config((key, value))));
        Assert.Equal(key, error.Key);
        Assert.Equal(value, error.Value);
        Assert.Contains($"'{key}'", error.Message);
        Assert.Contains($"'{value}'", error.Message);
        Assert.Contains(allowed, error.Message);
    }

    [Fact]
    public void An_unwritable_root_is_reported_at_connect()
    {
        using var folder = new TempFolder();
        string file = Path.Combine(folder.Path, "a-file");
        File.WriteAllText(file, "not a folder");
        string root = Path.Combine(file, "store");
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o => o.Local.Root = root));
        Assert.Equal("Neutral:Local:Root", error.Key);
        Assert.Equal(root, error.Value);
    }

    [Fact]
    public void A_provider_not_installed_yet_is_named()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o => o.Compute = "aws"));
        Assert.Equal("Neutral:Compute", error.Key);
        Assert.Contains("Add the NuGet package Neutral.Providers.Aws", error.Message);
        Assert.Contains("Available here: local.", error.Message);

        var store = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o => o.Storage = "minio"));
        Assert.Equal("Neutral:Storage", store.Key);
        Assert.Contains("Neutral.Providers.OpenWhisk", store.Message);
    }

    [Fact]
    public void Values_are_read_from_the_Neutral_section()
    {
        NeutralOptions options = NeutralConfiguration.Read(Config(
            ("Neutral:Compute", "LOCAL"), ("Neutral:Job:Retries", "5"), ("Neutral:Job:TimeoutSeconds", "30"), ("Neutral:Job:Speculation", "false"),
            ("Neutral:Job:KeepData", "true"), ("Neutral:Local:Workers", "3"), ("Neutral:Local:Isolation", "inproc"), ("Neutral:Local:Root", "/tmp/x"),
            ("Neutral:Local:JobData", "disk")));
        Assert.Equal("local", options.Compute);
        Assert.Equal(5, options.Job.Retries);
        Assert.Equal(30, options.Job.TimeoutSeconds);
        Assert.False(options.Job.Speculation);
        Assert.True(options.Job.KeepData);
        Assert.Equal(3, options.Local.Workers);
        Assert.Equal("inproc", options.Local.Isolation);
        Assert.Equal("/tmp/x", options.Local.Root);
        Assert.Equal("disk", options.Local.JobData);
    }

    [Theory]
    [InlineData("auto", JobOptions.AutomaticCallsPerInvocation)]
    [InlineData(" Auto ", JobOptions.AutomaticCallsPerInvocation)]
    [InlineData("250", 250)]
    public async Task Calls_per_invocation_is_a_number_or_auto(string text, int expected)
    {
        NeutralOptions options = NeutralConfiguration.Read(Config(("Neutral:Job:CallsPerInvocation", text)));
        Assert.Equal(expected, options.Job.CallsPerInvocation);
        Assert.Equal(expected == 0 ? "auto" : text, CoreSettings.All.Single(s => s.Key == "Job:CallsPerInvocation").ValueIn(options));

        // Set in code: 0 is auto, and a number out of range is named.
        await Cloud.Connect(o => o.Job.CallsPerInvocation = JobOptions.AutomaticCallsPerInvocation).DisposeAsync();
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(o => o.Job.CallsPerInvocation = 1001));
        Assert.Equal("Neutral:Job:CallsPerInvocation", error.Key);
    }

    [Fact]
    public void No_configuration_at_all_means_local_with_defaults()
    {
        NeutralOptions options = NeutralConfiguration.Read(Config());
        Assert.Equal("local", options.Compute);
        Assert.Null(options.Storage);
        Assert.Equal(2, options.Job.Retries);
        Assert.Equal(300, options.Job.TimeoutSeconds);
        Assert.True(options.Job.Speculation);
        Assert.Equal("process", options.Local.Isolation);
        Assert.Equal(".neutral", options.Local.Root);
        Assert.Equal(Environment.ProcessorCount, options.Local.EffectiveWorkers);
    }

    [Fact]
    public void Environment_variables_map_onto_the_section()
    {
        // NEUTRAL__LOCAL__WORKERS is Neutral:Local:Workers once '__' becomes ':'.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["NEUTRAL:LOCAL:WORKERS"] = "7" })
            .Build();
        Assert.Equal(7, NeutralConfiguration.Read(configuration).Local.Workers);
    }

    [Fact]
    public void Neutral_json_in_the_working_directory_is_read_by_default()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "neutral.json"), """{ "Neutral": { "Local": { "Workers": 9, "Isolation": "inproc" } } }""");
        string previous = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(folder.Path);
            NeutralOptions options = NeutralConfiguration.Read(NeutralConfiguration.Default());
            Assert.Equal(9, options.Local.Workers);
            Assert.Equal("inproc", options.Local.Isolation);
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public async System.Threading.Tasks.Task AddNeutral_registers_a_cloud_and_its_storage()
    {
        using var folder = new TempFolder();
        var services = new ServiceCollection();
        NeutralBuilder builder = services.AddNeutral(Config(("Neutral:Local:Root", folder.Path), ("Neutral:Local:Isolation", "inproc")));
        Assert.Equal("inproc", builder.Options.Local.Isolation);
        await using ServiceProvider provider = services.BuildServiceProvider();
        Cloud cloud = provider.GetRequiredService<Cloud>();
        Assert.Same(cloud.Storage, provider.GetRequiredService<IObjectStore>());
        Assert.Equal(9, await cloud.CallAsync(Remote.TestFunctions.Add(4, 5)));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_provider_added_after_AddNeutral_is_selected_by_configuration_and_uses_the_containers_clock()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(System.DateTimeOffset.UtcNow);
        var services = new ServiceCollection().AddSingleton<System.TimeProvider>(time);
        NeutralBuilder builder = services.AddNeutral(Config(("Neutral:Compute", "simulated"), ("Neutral:Storage", "memory")));
        builder.Options.Providers = new Providers.ProviderRegistry();
        var memory = new InMemoryObjectStore();
        var location = new Wire.StoreLocation("memory", "di", Cloud.InternalPrefix);
        builder.Providers
            .AddStorage("memory", _ => new Providers.StoreConnection(memory, location))
            .AddCompute("simulated", context => new SimulatedCloud(context.Store!.Store, context.Store.Location, context.TimeProvider));
        await using ServiceProvider provider = services.BuildServiceProvider();
        Cloud cloud = provider.GetRequiredService<Cloud>();
        Assert.Same(time, cloud.Options.TimeProvider);
        await cloud.Storage.PutAsync("hello", new byte[] { 1 });
        Assert.NotNull(await memory.GetAsync("hello"));
    }

    // Strict configuration: real JSON files and real environment variables, so that the origin a message names is the
    // one a user would see. Variables carry a prefix of their own: tests in other classes read the process's
    // environment (NEUTRAL__* through NeutralConfiguration.Default) in parallel.

    private static (IConfigurationRoot Configuration, string Path) Json(TempFolder folder, string json, EnvironmentVariables? variables = null)
    {
        string path = Path.Combine(folder.Path, "neutral.json");
        File.WriteAllText(path, json);
        var builder = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false);
        if (variables is not null)
        {
            builder.AddEnvironmentVariables(variables.Prefix);
        }

        return (builder.Build(), path);
    }

    private static IConfigurationRoot Variables(EnvironmentVariables variables) =>
        new ConfigurationBuilder().AddEnvironmentVariables(variables.Prefix).Build();

    /// <summary>Process environment variables under a prefix of their own, removed on dispose.</summary>
    private sealed class EnvironmentVariables : IDisposable
    {
        private readonly List<string> _names = [];

        public string Prefix { get; } = "NEUTRALTEST_" + Guid.NewGuid().ToString("N")[..8] + "_";

        public string Set(string name, string value)
        {
            string full = Prefix + name;
            Environment.SetEnvironmentVariable(full, value);
            _names.Add(full);
            return full;
        }

        public void Dispose()
        {
            foreach (string name in _names)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    [Fact]
    public void An_unknown_key_fails_naming_the_file_it_is_in_and_the_nearest_known_key()
    {
        using var folder = new TempFolder();
        var (configuration, path) = Json(folder, """{ "Neutral": { "Compute": "local", "Wokers": 4 } }""");
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(configuration));
        Assert.Equal("Neutral:Wokers", error.Key);
        Assert.Equal("4", error.Value);
        Assert.Equal("the file " + path, error.Origin);
        Assert.Contains("not a setting Neutral knows", error.Message);
        Assert.Contains($"(from the file {path})", error.Message);
        Assert.Contains("Did you mean 'Neutral:Local:Workers'?", error.Message);
    }

    [Theory]
    [InlineData("""{ "Neutral": { "Local": { "Root2": "/tmp/x" } } }""", "Neutral:Local:Root2", "Neutral:Local:Root")]
    [InlineData("""{ "Neutral": { "Locl": { "Workers": 2 } } }""", "Neutral:Locl:Workers", "Neutral:Local:Workers")]
    [InlineData("""{ "Neutral": { "Job": { "Retry": 2 } } }""", "Neutral:Job:Retry", "Neutral:Job:Retries")]
    [InlineData("""{ "Neutral": { "Local": { "Retries": 2 } } }""", "Neutral:Local:Retries", "Neutral:Job:Retries")]
    public void An_unknown_nested_key_fails_with_the_nearest_known_key(string json, string key, string nearest)
    {
        using var folder = new TempFolder();
        var (configuration, _) = Json(folder, json);
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(configuration));
        Assert.Equal(key, error.Key);
        Assert.Contains($"Did you mean '{nearest}'?", error.Message);
    }

    [Fact]
    public void An_unknown_key_near_no_known_one_lists_the_keys_of_its_section_this_build_has()
    {
        using var folder = new TempFolder();
        var nested = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(Json(folder, """{ "Neutral": { "Job": { "Colour": "blue" } } }""").Configuration));
        Assert.Equal("Neutral:Job:Colour", nested.Key);
        Assert.Contains("Neutral:Job holds only Retries, TimeoutSeconds, Speculation, KeepData, StartTimeoutSeconds, InvokeConcurrency, CallsPerInvocation, InvokeFrom, StoreRetrySeconds, SweepAfterHours, LeaseSeconds, AttachMinutes, KeepFailedHours, CancelOnSignal.", nested.Message);

        var top = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(Json(folder, """{ "Neutral": { "Colour": "blue" } }""").Configuration));
        Assert.Contains("Neutral holds only Compute, Storage, Job, Local, and sections named after providers.", top.Message);
    }

    [Fact]
    public void A_misspelt_environment_variable_is_named_exactly()
    {
        using var variables = new EnvironmentVariables();
        string name = variables.Set("NEUTRAL__LOCAL__WOKERS", "3");
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(Variables(variables)));
        Assert.Equal("Neutral:Local:Wokers", error.Key, ignoreCase: true);
        Assert.Equal("the environment variable " + name, error.Origin);
        Assert.Contains($"(from the environment variable {name})", error.Message);
        Assert.Contains("Did you mean 'Neutral:Local:Workers'?", error.Message);
    }

    [Fact]
    public void A_wrong_value_names_the_environment_variable_or_the_file_that_set_it()
    {
        using var folder = new TempFolder();
        using var variables = new EnvironmentVariables();
        string name = variables.Set("NEUTRAL__LOCAL__WORKERS", "many");
        var (configuration, path) = Json(folder, """{ "Neutral": { "Local": { "Workers": 2, "Isolation": "container" } } }""", variables);

        // The variable wins over the file, and the message says so.
        var fromVariable = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(configuration));
        Assert.Equal("Neutral:Local:Workers", fromVariable.Key);
        Assert.Equal("many", fromVariable.Value);
        Assert.Contains($"(from the environment variable {name}): it must be a whole number from 0 to 4096.", fromVariable.Message);

        // Isolation is checked after reading (the same check as for options set in code), and still names its file.
        Environment.SetEnvironmentVariable(name, null);
        var fromFile = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(Json(folder, File.ReadAllText(path), variables).Configuration));
        Assert.Equal("Neutral:Local:Isolation", fromFile.Key);
        Assert.Contains($"(from the file {path}): allowed values are process", fromFile.Message);
    }

    [Fact]
    public void A_providers_value_error_names_the_variable_that_set_it()
    {
        using var variables = new EnvironmentVariables();
        string name = variables.Set("NEUTRAL__MEMORY__BUCKET", "Not A Bucket");
        NeutralOptions options = NeutralConfiguration.Read(Variables(variables));
        options.Providers = new ProviderRegistry().AddStorage("memory", context =>
        {
            var (section, prefix) = context.Section("Memory");
            throw new NeutralConfigurationException(prefix + "Bucket", section["Bucket"], "it must be a lower-case bucket name.");
        });
        options.Storage = "memory";
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(options));
        Assert.Equal("Neutral:Memory:Bucket", error.Key);
        Assert.Contains($"(from the environment variable {name})", error.Message);
    }

    [Fact]
    public async System.Threading.Tasks.Task The_sections_of_providers_this_build_does_not_reference_are_accepted()
    {
        // Users keep every provider's section and switch with NEUTRAL__COMPUTE: none of these providers is referenced.
        using var folder = new TempFolder();
        string root = Path.Combine(folder.Path, "store").Replace("\\", "/", StringComparison.Ordinal);
        var (configuration, _) = Json(folder, $$"""
            {
              "Neutral": {
                "Local": { "Isolation": "inproc", "Root": "{{root}}" },
                "Aws": { "Region": "eu-west-1", "Tags": { "team": "risk" } },
                "azureblob": { "Container": "jobs" },
                "OPENWHISK": { "Namespace": "guest" },
                "Redis": "localhost:6379"
              }
            }
            """);
        await using Cloud cloud = Cloud.Connect(configuration);
        Assert.Equal("local", cloud.Options.Compute);
    }

    [Fact]
    public async System.Threading.Tasks.Task Keys_a_provider_declares_are_enforced_once_it_has_registered()
    {
        using var folder = new TempFolder();
        var (configuration, path) = Json(folder, """{ "Neutral": { "Compute": "simulated", "Storage": "memory", "Aws": { "Regoin": "eu-west-1" } } }""");

        // AddNeutral reads before .AddX() runs: the section is left for the check at Connect.
        var services = new ServiceCollection();
        NeutralBuilder builder = services.AddNeutral(configuration);
        builder.Options.Providers = new ProviderRegistry();
        var memory = new InMemoryObjectStore();
        builder.Providers
            .AddStorage("memory", _ => new StoreConnection(memory, new Wire.StoreLocation("memory", "di", Cloud.InternalPrefix)))
            .AddCompute("simulated", context => new SimulatedCloud(context.Store!.Store, context.Store.Location, context.TimeProvider))
            .AddSection("Aws", "Region", "Tags:*");
        await using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<NeutralConfigurationException>(() => provider.GetRequiredService<Cloud>());
        Assert.Equal("Neutral:Aws:Regoin", error.Key);
        Assert.Equal("the file " + path, error.Origin);
        Assert.Contains("Did you mean 'Neutral:Aws:Region'?", error.Message);

        // The declared keys, and anything under a key declared with '*', pass.
        NeutralOptions options = NeutralConfiguration.Read(Json(folder, """
            { "Neutral": { "Compute": "simulated", "Storage": "memory", "aws": { "region": "eu-west-1", "Tags": { "team": "risk", "cost": { "centre": "7" } } } } }
            """).Configuration);
        options.Providers = builder.Providers;
        await using Cloud cloud = Cloud.Connect(options);
    }

    [Fact]
    public void A_section_declared_by_no_provider_and_named_after_none_fails_at_connect()
    {
        using var folder = new TempFolder();
        var (configuration, _) = Json(folder, """{ "Neutral": { "Gcp": { "Project": "p" } } }""");
        NeutralConfiguration.Read(configuration); // perhaps a provider still to register: not yet an error
        var error = Assert.Throws<NeutralConfigurationException>(() => Cloud.Connect(configuration));
        Assert.Equal("Neutral:Gcp:Project", error.Key);
    }

    [Theory]
    [InlineData("""{ "Neutral": { "Local": { "Workers": [ 1, 2 ] } } }""", "Neutral:Local:Workers", "Neutral:Local:Workers:0")]
    [InlineData("""{ "Neutral": { "Compute": { "Name": "aws" } } }""", "Neutral:Compute", "Neutral:Compute:Name")]
    public void A_section_or_list_where_a_single_value_is_expected_is_an_error(string json, string key, string found)
    {
        using var folder = new TempFolder();
        var (configuration, path) = Json(folder, json);
        var error = Assert.Throws<NeutralConfigurationException>(() => NeutralConfiguration.Read(configuration));
        Assert.Equal(key, error.Key);
        Assert.Null(error.Value);
        Assert.Equal("the file " + path, error.Origin);
        Assert.Contains($"it must be a single value, but it is a section or a list (it holds '{found}')", error.Message);
    }

    [Fact]
    public void A_value_where_a_section_is_expected_is_an_error()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => NeutralConfiguration.Read(Config(("Neutral:Local", "fast"))));
        Assert.Equal("Neutral:Local", error.Key);
        Assert.Contains("it is a section, not a single value: Neutral:Local holds only Workers, Isolation, Root, JobData, WorkerCommand, ForwardOutput.", error.Message);
    }

    [Theory]
    [InlineData("neutral.json", "{\n  \"Neutral\": {\n    \"Compute\": \"local\"\n    \"Storage\": \"local\"\n  }\n}", "is not valid JSON at line 4, position 5")]
    [InlineData("appsettings.json", """{ "Neutral": { "Local": { "Workers": 3, } }""", "is not valid JSON at line 1")]
    [InlineData("neutral.json", "[ 1 ]", "Top-level JSON element must be an object")]
    public void A_malformed_default_file_names_the_file_and_the_line(string file, string text, string why)
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, file);
        File.WriteAllText(path, text);
        var error = Assert.Throws<NeutralConfigurationException>(() => NeutralConfiguration.Default(folder.Path));
        Assert.Equal("Neutral", error.Key);
        Assert.Equal("the file " + path, error.Origin);
        Assert.StartsWith($"Configuration file '{path}' cannot be read: ", error.Message);
        Assert.Contains(why, error.Message);
        Assert.DoesNotContain("LineNumber", error.Message);
    }

    [Fact]
    public void A_section_is_declared_by_path_and_never_over_a_core_key()
    {
        var registry = new ProviderRegistry();
        Assert.Throws<ArgumentException>(() => registry.AddSection("local", "Extra"));
        Assert.Throws<ArgumentException>(() => registry.AddSection("Aws:Credentials", "Profile"));
        Assert.Throws<ArgumentException>(() => registry.AddSection("Aws", "Credentials::Profile"));
        Assert.Throws<ArgumentException>(() => registry.AddSection("Aws", "*:Profile"));
        registry.AddSection("Aws", "Region").AddSection("AWS", "Credentials:Profile", "Tags:*");
        var (section, keys) = Assert.Single(registry.Sections);
        Assert.Equal("Aws", section);
        Assert.Equal(new[] { "Region", "Credentials:Profile", "Tags:*" }, keys);
    }

    [Fact]
    public void AddNeutral_checks_configuration_at_registration()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => new ServiceCollection().AddNeutral(Config(("Neutral:Job:Retries", "-1"))));
        Assert.Equal("Neutral:Job:Retries", error.Key);
    }
}

/// <summary>The configuration tables of the README and the guide list exactly the core's settings.</summary>
public sealed class ConfigurationDocsTests
{
    [Theory]
    [InlineData("README.md", "Neutral:")]
    [InlineData("docs/guide.md", "")]
    public void Every_core_setting_has_a_row_and_every_row_is_a_setting(string file, string prefix)
    {
        string text = File.ReadAllText(Path.Combine(PublishedApp.Repository(), file));
        // A table row's first cell: | `Neutral:Job:Retries` | (the README) or | `Job:Retries` | (the guide).
        var rows = System.Text.RegularExpressions.Regex.Matches(text, @"^\| `([A-Za-z:{}]+)` \|", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value)
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !k.Contains('{', StringComparison.Ordinal))
            .Select(k => k[prefix.Length..])
            .ToHashSet(StringComparer.Ordinal);
        string[] settings = CoreSettings.All.Select(s => s.Key).ToArray();
        Assert.All(settings, key => Assert.True(rows.Contains(key), $"{file} has no configuration row for {prefix}{key}"));
        Assert.All(rows.Where(k => k.StartsWith("Job:", StringComparison.Ordinal) || k.StartsWith("Local:", StringComparison.Ordinal)),
            key => Assert.True(settings.Contains(key), $"{file} has a row for {prefix}{key}, which is not a core setting"));
    }
}
