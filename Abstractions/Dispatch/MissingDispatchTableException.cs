using System;

namespace Neutral.Dispatch;

/// <summary>
/// A worker was asked for a function of an assembly whose dispatch table was never registered in it: the worker
/// executable was built without the Neutral source generator, which registers the tables of the libraries an
/// executable references (a library's own registration runs only when something touches the library). Unlike
/// <see cref="StaleWorkerException"/>, rebuilding from the same code does not help; the executable's project must run
/// the generator.
/// </summary>
public sealed class MissingDispatchTableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MissingDispatchTableException(string functionId, string assembly)
        : base($"The worker has no dispatch table for the assembly '{assembly}', which defines the remote function '{functionId}': "
            + $"the worker executable '{AppDomain.CurrentDomain.FriendlyName}' was built without the Neutral source generator, which registers the tables of the libraries it references. "
            + "Reference the Neutral package from the executable's own project (and not with ExcludeAssets=\"analyzers\" or PrivateAssets=\"all\" on the way), then rebuild and redeploy the worker.")
    {
        FunctionId = functionId;
        Assembly = assembly;
    }

    /// <summary>The function the call asked for.</summary>
    public string FunctionId { get; }

    /// <summary>The assembly that defines it, whose table is missing.</summary>
    public string Assembly { get; }
}
