using System;
using System.ComponentModel;

namespace Neutral;

/// <summary>
/// A value stored once and passed to remote calls by reference. Create it with <c>Cloud.ShareAsync</c>; inside a
/// remote function <see cref="Value"/> is resolved by the worker before the call, fetched once per worker process and
/// cached.
/// </summary>
/// <typeparam name="T">The shared value's type.</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "Shared<T> is the pinned public name (DESIGN.md section 2).")]
public sealed class Shared<T>
{
    private T _value;
    private volatile bool _resolved;

    /// <summary>Creates a reference to a value already stored at <paramref name="key"/>, with the value at hand.</summary>
    /// <param name="key">Where the encoded value is stored (a key of the job store's internal space).</param>
    /// <param name="value">The value itself.</param>
    public Shared(string key, T value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Key = key;
        _value = value;
        _resolved = true;
    }

    private Shared(string key)
    {
        Key = key;
        _value = default!;
    }

    /// <summary>Where the encoded value is stored.</summary>
    public string Key { get; }

    /// <summary>Whether <see cref="Value"/> is available.</summary>
    public bool IsResolved => _resolved;

    /// <summary>The shared value.</summary>
    /// <exception cref="InvalidOperationException">The reference was decoded but not resolved (outside a dispatched call).</exception>
    public T Value
    {
        get
        {
            if (!_resolved)
            {
                throw new InvalidOperationException(
                    $"Shared value '{Key}' has not been resolved. Shared<T>.Value is available inside a remote call (the worker resolves it before the call) or on the Shared<T> returned by Cloud.ShareAsync.");
            }

            return _value;
        }
    }

    /// <summary>Creates an unresolved reference (used by generated decoders).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "Called by generated decoders with the type at hand.")]
    public static Shared<T> FromKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return new Shared<T>(key);
    }

    /// <summary>Supplies the value (used by the worker's dispatch).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Resolve(T value)
    {
        _value = value;
        _resolved = true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Shared<{typeof(T).Name}>({Key})";
}
