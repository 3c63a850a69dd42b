using System;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Neutral.Generators.Tests;

/// <summary>
/// The <c>[GeneratedCode]</c> stamp is the generator assembly's version, which Directory.Build.props sets for every
/// project (and from <c>-p:PackageVersion=...</c> when packing; Neutral.Packaging.Tests checks a packed generator).
/// </summary>
public sealed partial class GeneratedCodeStampTests
{
    [GeneratedRegex("""GeneratedCode\("Neutral\.Generators", "(?<version>[^"]*)"\)""")]
    private static partial Regex Stamp();

    private static string InformationalVersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    [Fact]
    public void Every_generated_file_is_stamped_with_the_generator_assemblys_version()
    {
        var (result, _, diagnostics) = GeneratorHarness.Run("""
            using Neutral;
            namespace Sample;
            public sealed record Point(int X, int Y);
            public static class Geometry { [Remote] public static Point Move(Point p, Shared<int[]> by) => p; }
            """);
        Assert.Empty(diagnostics);
        string expected = InformationalVersionOf(typeof(RemoteGenerator).Assembly);
        var sources = result.Results.Single().GeneratedSources;
        Assert.Equal(3, sources.Length);
        Assert.All(sources, source =>
        {
            var stamps = Stamp().Matches(source.SourceText.ToString()).Select(m => m.Groups["version"].Value).ToArray();
            Assert.NotEmpty(stamps);
            Assert.All(stamps, stamp => Assert.Equal(expected, stamp));
        });
    }

    [Fact]
    public void The_generator_has_the_version_every_other_project_has_without_its_source_revision()
    {
        // Built from the same Directory.Build.props as this test assembly: one place for versions.
        Assert.Equal(InformationalVersionOf(typeof(GeneratedCodeStampTests).Assembly), RemoteGenerator.Emitter.Version);
        Assert.DoesNotContain("+", RemoteGenerator.Emitter.Version, StringComparison.Ordinal);
        Assert.Equal(RemoteGenerator.Emitter.Version, RemoteGenerator.Emitter.VersionOf(typeof(RemoteGenerator).Assembly));
    }

    [Theory]
    [InlineData("0.1.1-test.1+e69a3cafcb4c05c85c48b567cca35d2184f66c37", "0.1.1-test.1")]
    [InlineData("0.2.0", "0.2.0")]
    [InlineData(null, "1.2.3.4")]
    [InlineData("", "1.2.3.4")]
    public void The_stamp_is_the_informational_version_less_its_metadata_else_the_assembly_version(string? informational, string expected) =>
        Assert.Equal(expected, RemoteGenerator.Emitter.StampOf(informational, new Version(1, 2, 3, 4)));

    [Fact]
    public void Snapshots_compare_without_the_stamps_version()
    {
        const string Text = "[global::System.CodeDom.Compiler.GeneratedCode(\"Neutral.Generators\", \"0.1.0\")]\nclass C { }";
        Assert.Equal(Snapshot.WithoutVersion(Text), Snapshot.WithoutVersion(Text.Replace("0.1.0", "0.2.0-rc.1")));
        Assert.NotEqual(Snapshot.WithoutVersion(Text), Snapshot.WithoutVersion(Text.Replace("class C", "class D")));
    }
}
