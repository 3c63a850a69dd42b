using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
    [InlineData("Neutral:Job:Retries", "-3", "whole number from 0 to 100")]
    [InlineData("Neutral:Job:TimeoutSeconds", "0", "whole number from 1")]
    [InlineData("Neutral:Job:Speculation", "maybe", "true or false")]
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
            ("Neutral:Job:KeepData", "true"), ("Neutral:Local:Workers", "3"), ("Neutral:Local:Isolation", "inproc"), ("Neutral:Local:Root", "/tmp/x")));
        Assert.Equal("local", options.Compute);
        Assert.Equal(5, options.Job.Retries);
        Assert.Equal(30, options.Job.TimeoutSeconds);
        Assert.False(options.Job.Speculation);
        Assert.True(options.Job.KeepData);
        Assert.Equal(3, options.Local.Workers);
        Assert.Equal("inproc", options.Local.Isolation);
        Assert.Equal("/tmp/x", options.Local.Root);
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

    [Fact]
    public void AddNeutral_checks_configuration_at_registration()
    {
        var error = Assert.Throws<NeutralConfigurationException>(() => new ServiceCollection().AddNeutral(Config(("Neutral:Job:Retries", "-1"))));
        Assert.Equal("Neutral:Job:Retries", error.Key);
    }
}
