using System;

namespace Neutral;

/// <summary>
/// Marks a static method as callable remotely. The Neutral source generator emits a typed stub
/// <c>Remote.&lt;Type&gt;.&lt;Method&gt;(...)</c> returning a <see cref="RemoteCall{TResult}"/> and a worker
/// dispatch entry for it.
/// </summary>
/// <remarks>
/// Properties left unset fall back to the job configuration (<c>Neutral:Job</c>). The generator checks the values set
/// against the same ranges as those keys, and reports one outside them as error <c>NEU1012</c>.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class RemoteAttribute : Attribute
{
    /// <summary>How many times a failed call is attempted again (platform faults; user exceptions only with <see cref="RetryOnException"/>): 0 to 100.</summary>
    public int Retries { get; set; }

    /// <summary>Seconds after which a running call is abandoned and retried or failed, counted from its start: 1 to 604,800 (7 days).</summary>
    public int TimeoutSeconds { get; set; }

    /// <summary>Memory the worker running this function should have, in MiB (used by providers that size functions): at least 1.</summary>
    public int MemoryMb { get; set; }

    /// <summary>When <see langword="true"/>, an exception thrown by the method itself is retried like a platform fault.</summary>
    public bool RetryOnException { get; set; }

    /// <summary>
    /// An explicit, stable function id. By default the id is the canonical signature
    /// <c>Namespace.Type.Method(ParamType,...)</c>; set this to keep the id when renaming or moving the method.
    /// </summary>
    public string? Id { get; set; }
}
