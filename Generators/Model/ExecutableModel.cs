using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    /// <summary>
    /// What an executable's module initializer does: register the tables and providers of the assemblies it references,
    /// and, when it references <c>Neutral.Workers</c>, serve as its own local worker when started as one (NativeAOT).
    /// </summary>
    internal sealed record ExecutableModel(EquatableArray<string> Registrations, bool ServesWorkers);

    /// <summary>What one referenced assembly contributes to an executable's <see cref="ExecutableModel"/>.</summary>
    internal sealed record ReferenceModel(EquatableArray<string> Registrations, bool ServesWorkers)
    {
        public static readonly ReferenceModel None = new(EquatableArray<string>.Empty, false);
    }
}
