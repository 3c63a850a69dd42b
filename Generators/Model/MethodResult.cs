using Neutral.Generators.Helpers;

namespace Neutral.Generators.Model
{
    /// <summary>The one transform's output: the model for emitting (null when the method has errors) and its diagnostics.</summary>
    internal sealed record MethodResult(RemoteMethodModel? Model, FunctionIdInfo? Id, EquatableArray<DiagnosticInfo> Diagnostics);
}
