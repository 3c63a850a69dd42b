using System;

namespace Neutral;

/// <summary>
/// One call of a <see cref="RemoteAttribute">[Remote]</see> method with its arguments already encoded, ready to run
/// locally or in the cloud. Create it with the generated stub <c>Remote.&lt;Type&gt;.&lt;Method&gt;(...)</c> and run it
/// with a <c>Cloud</c>.
/// </summary>
/// <typeparam name="TResult">What the method returns (<see cref="Unit"/> for <c>void</c> and <c>Task</c>).</typeparam>
public sealed class RemoteCall<TResult>
{
    /// <summary>Creates a call (used by generated stubs).</summary>
    /// <param name="function">The method called.</param>
    /// <param name="arguments">The arguments, encoded by the generated codec.</param>
    public RemoteCall(RemoteFunction<TResult> function, ReadOnlyMemory<byte> arguments)
    {
        ArgumentNullException.ThrowIfNull(function);
        Function = function;
        Arguments = arguments;
    }

    /// <summary>The method called.</summary>
    public RemoteFunction<TResult> Function { get; }

    /// <summary>The encoded arguments.</summary>
    public ReadOnlyMemory<byte> Arguments { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Function.Id} ({Arguments.Length} bytes of arguments)";
}
