using System;

namespace Neutral;

/// <summary>
/// Marks an assembly as a Neutral provider. <see cref="RegistrationType"/> must have
/// <c>public static void Register()</c>, which registers the provider's compute backend and stores. Neutral's source
/// generator calls it from a module initializer of every executable that references the assembly (directly or not),
/// so configuration alone can select the provider, without assembly scanning or reflection (NativeAOT- and
/// trim-safe).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class NeutralProviderAttribute : Attribute
{
    /// <summary>Marks the assembly.</summary>
    /// <param name="registrationType">The type whose <c>public static void Register()</c> registers the provider.</param>
    public NeutralProviderAttribute(Type registrationType) => RegistrationType = registrationType;

    /// <summary>The type whose <c>public static void Register()</c> registers the provider.</summary>
    public Type RegistrationType { get; }
}
