using System;
using System.ComponentModel;

namespace Neutral;

/// <summary>
/// A reference to one remote call's result, where the call stored it. Pass it to a generated stub wherever the
/// method takes the result's type: the dependent call is launched once this call has succeeded, and its worker reads
/// the result from storage, not through the client. A <c>RemoteFuture&lt;T&gt;</c> is one.
/// </summary>
public abstract class RemoteRef
{
    /// <summary>Creates the reference (the engine's futures derive from it).</summary>
    protected RemoteRef()
    {
    }

    /// <summary>The job of the call that produces the value.</summary>
    public abstract string JobId { get; }

    /// <summary>The producing call's index in its job.</summary>
    public abstract int CallIndex { get; }

    /// <summary>The producing call's function id.</summary>
    public abstract string FunctionId { get; }
}

/// <summary>A <see cref="RemoteRef"/> to a result of type <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The result type: a stub takes it wherever a parameter has this type.</typeparam>
public abstract class RemoteRef<T> : RemoteRef
{
    /// <summary>Creates the reference (the engine's futures derive from it).</summary>
    protected RemoteRef()
    {
    }

    /// <summary>
    /// Takes the result for a call that is being made: gives it when this process holds it already (the call then
    /// carries it by value), or else keeps the producing job's data in storage until the call that reads it has ended.
    /// </summary>
    /// <param name="value">The result, when the method returns <see langword="true"/>.</param>
    /// <returns>Whether the value is at hand.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public abstract bool TryTake(out T value);
}
