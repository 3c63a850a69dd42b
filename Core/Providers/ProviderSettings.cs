using System;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;

namespace Neutral.Providers;

/// <summary>
/// Reading a provider's settings the way Neutral's own are read (a wrong value is a
/// <see cref="NeutralConfigurationException"/> naming the key), and what a self-deploying application needs to know
/// about itself: what every provider shares.
/// </summary>
public static class ProviderSettings
{
    /// <summary>The value of <paramref name="key"/>; throws naming <paramref name="what"/> when it is missing or empty.</summary>
    public static string Required(IConfiguration section, string prefix, string key, string what)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section[key] is { Length: > 0 } value ? value : throw new NeutralConfigurationException(prefix + key, null, $"it is required: {what}.");
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or <paramref name="fallback"/> when the key is not set.</summary>
    public static int WholeNumber(IConfiguration section, string prefix, string key, int fallback, int min, int max)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section[key] is not { } text)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new NeutralConfigurationException(prefix + key, text, $"it must be a whole number from {min} to {max}.");
    }

    /// <summary><c>true</c> or <c>false</c>, or <paramref name="fallback"/> when the key is not set.</summary>
    public static bool Bool(IConfiguration section, string prefix, string key, bool fallback = false)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section[key] is not { } text ? fallback
            : bool.TryParse(text, out bool value) ? value
            : throw new NeutralConfigurationException(prefix + key, text, "it must be true or false.");
    }

    /// <summary>
    /// This process as a deployable worker: its publish folder, its executable, and whether it is a NativeAOT build.
    /// A framework-dependent build (or <c>dotnet App.dll</c>) cannot be deployed to a platform without a .NET runtime:
    /// refused, naming the publish commands.
    /// </summary>
    /// <param name="platform">What the worker would run as, for the message ("an OpenWhisk action").</param>
    /// <exception cref="InvalidOperationException">The process is not a self-contained or NativeAOT build.</exception>
    public static (string Folder, string Executable, bool NativeAot) ThisApplication(string platform)
    {
        string executable = Environment.ProcessPath ?? throw new InvalidOperationException("the process has no executable path.");
        string folder = AppContext.BaseDirectory;
        bool nativeAot = !RuntimeFeature.IsDynamicCodeSupported;
        if (!nativeAot && (Path.GetFileNameWithoutExtension(executable) == "dotnet" || !File.Exists(Path.Combine(folder, "libcoreclr.so"))))
        {
            throw new InvalidOperationException(
                $"{platform} runs without a .NET runtime installed: run the executable of a self-contained or NativeAOT publish for linux-x64 "
                + "(dotnet publish -c Release -r linux-x64 --self-contained, or -p:PublishAot=true), not `dotnet App.dll` or a framework-dependent build.");
        }

        return (folder, executable, nativeAot);
    }
}
