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

    /// <summary>Creates a call some of whose arguments are other calls' results (used by generated stubs).</summary>
    /// <param name="function">The method called.</param>
    /// <param name="arguments">The arguments given by value, encoded by the generated codec, without the inputs' bytes.</param>
    /// <param name="inputs">The arguments read from storage, in the order of their offsets; none: a call of values only.</param>
    public RemoteCall(RemoteFunction<TResult> function, ReadOnlyMemory<byte> arguments, System.Collections.Generic.IReadOnlyList<RemoteInput>? inputs)
        : this(function, arguments)
    {
        if (inputs is { Count: > 0 })
        {
            int last = 0;
            foreach (RemoteInput input in inputs)
            {
                ArgumentNullException.ThrowIfNull(input, nameof(inputs));
                if (input.Offset < last || input.Offset > arguments.Length)
                {
                    throw new ArgumentException($"Input '{input.Parameter}' is at offset {input.Offset}, outside the {arguments.Length} bytes of arguments or before the input ahead of it.", nameof(inputs));
                }

                last = input.Offset;
            }

            Inputs = inputs;
        }
    }

    /// <summary>The arguments that are other calls' results, read from storage by the worker; null when there are none.</summary>
    public System.Collections.Generic.IReadOnlyList<RemoteInput>? Inputs { get; }

    /// <summary>The method called.</summary>
    public RemoteFunction<TResult> Function { get; }

    /// <summary>The encoded arguments.</summary>
    public ReadOnlyMemory<byte> Arguments { get; }

    /// <inheritdoc/>
    public override string ToString() => Inputs is { Count: > 0 } inputs
        ? $"{Function.Id} ({Arguments.Length} bytes of arguments, {inputs.Count} from other calls)"
        : $"{Function.Id} ({Arguments.Length} bytes of arguments)";
}
