using System;
using System.ComponentModel;

namespace Neutral;

/// <summary>
/// An argument of a generated stub's second overload: a value of type <typeparamref name="T"/>, or the result of
/// another remote call that returns <typeparamref name="T"/> (a <see cref="RemoteRef{T}"/>, such as a
/// <c>RemoteFuture&lt;T&gt;</c>). Both convert to it implicitly, so a stub is called as usual with futures in place of
/// values; a future of another type is a compile error (NEU1013).
/// </summary>
/// <typeparam name="T">The parameter's type.</typeparam>
public readonly struct RemoteArg<T> : IEquatable<RemoteArg<T>>
{
    private readonly T _value;

    /// <summary>An argument given by value.</summary>
    /// <param name="value">The value.</param>
    public RemoteArg(T value)
    {
        _value = value;
        Source = null;
    }

    /// <summary>An argument that is another call's result.</summary>
    /// <param name="source">The producing call's result.</param>
    public RemoteArg(RemoteRef<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _value = default!;
        Source = source;
    }

    /// <summary>The producing call, when the argument is another call's result.</summary>
    public RemoteRef<T>? Source { get; }

    /// <summary>An argument given by value.</summary>
    /// <param name="value">The value.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2225", Justification = "The constructors are the named alternatives.")]
    public static implicit operator RemoteArg<T>(T value) => new(value);

    /// <summary>An argument that is another call's result.</summary>
    /// <param name="source">The producing call's result.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2225", Justification = "The constructors are the named alternatives.")]
    public static implicit operator RemoteArg<T>(RemoteRef<T> source) => new(source);

    /// <summary>
    /// The value to encode (used by generated stubs): the argument's own, or its source's when this process holds that
    /// already; <see langword="false"/> when the worker is to read it from storage (the source's data is then kept).
    /// </summary>
    /// <param name="value">The value, when the method returns <see langword="true"/>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool TryGetValue(out T value)
    {
        if (Source is null)
        {
            value = _value;
            return true;
        }

        return Source.TryTake(out value);
    }

    /// <summary>The input record of a stub whose argument is read from storage (used by generated stubs).</summary>
    /// <param name="offset">Where the value's bytes go in the encoded arguments.</param>
    /// <param name="parameter">The parameter's name.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RemoteInput ToInput(long offset, string parameter) =>
        new(checked((int)offset), parameter, Source ?? throw new InvalidOperationException("The argument is a value, not another call's result."));

    /// <inheritdoc/>
    public bool Equals(RemoteArg<T> other) =>
        ReferenceEquals(Source, other.Source) && System.Collections.Generic.EqualityComparer<T>.Default.Equals(_value, other._value);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RemoteArg<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Source, _value);

    /// <summary>Whether two arguments are the same value or the same source.</summary>
    public static bool operator ==(RemoteArg<T> left, RemoteArg<T> right) => left.Equals(right);

    /// <summary>Whether two arguments differ.</summary>
    public static bool operator !=(RemoteArg<T> left, RemoteArg<T> right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => Source is { } source ? $"result of call {source.CallIndex} of job {source.JobId}" : _value?.ToString() ?? "null";
}

/// <summary>
/// An array argument of a generated stub's second overload: an array of values, another call's result that is a whole
/// array (a <see cref="RemoteRef{T}"/> of <typeparamref name="T"/>[]), or an array of other calls' results, one for
/// each element (a fan-in: <c>job.Futures.ToArray()</c>). The worker reads each result from storage.
/// </summary>
/// <typeparam name="T">The array's element type.</typeparam>
public readonly struct RemoteArrayArg<T> : IEquatable<RemoteArrayArg<T>>
{
    private readonly T[]? _values;

    /// <summary>An array of values.</summary>
    /// <param name="values">The values.</param>
    public RemoteArrayArg(T[]? values)
    {
        _values = values;
        Source = null;
        Items = null;
    }

    /// <summary>Another call's result, a whole array.</summary>
    /// <param name="source">The producing call's result.</param>
    public RemoteArrayArg(RemoteRef<T[]> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _values = null;
        Source = source;
        Items = null;
    }

    /// <summary>Other calls' results, one for each element.</summary>
    /// <param name="items">The producing calls' results, in the array's order.</param>
    /// <exception cref="ArgumentException">An item is null.</exception>
    public RemoteArrayArg(RemoteRef<T>[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is null)
            {
                throw new ArgumentException($"Item {i} is null: each element must be another call's result.", nameof(items));
            }
        }

        _values = null;
        Source = null;
        Items = items;
    }

    /// <summary>The producing call, when the argument is another call's whole result.</summary>
    public RemoteRef<T[]>? Source { get; }

    /// <summary>The producing calls, one for each element, when the argument is a fan-in.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1819", Justification = "The stub reads the array the caller gave, in its order.")]
    public RemoteRef<T>[]? Items { get; }

    /// <summary>An array of values.</summary>
    /// <param name="values">The values.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2225", Justification = "The constructors are the named alternatives.")]
    public static implicit operator RemoteArrayArg<T>(T[]? values) => new(values);

    /// <summary>Another call's result, a whole array.</summary>
    /// <param name="source">The producing call's result.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2225", Justification = "The constructors are the named alternatives.")]
    public static implicit operator RemoteArrayArg<T>(RemoteRef<T[]> source) => new(source);

    /// <summary>Other calls' results, one for each element (an array of futures converts too).</summary>
    /// <param name="items">The producing calls' results.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2225", Justification = "The constructors are the named alternatives.")]
    public static implicit operator RemoteArrayArg<T>(RemoteRef<T>[] items) => new(items);

    /// <summary>
    /// The array to encode whole (used by generated stubs): the values, or the source's when this process holds it;
    /// <see langword="false"/> for a source read from storage (see <see cref="ToInput"/>) or a fan-in (see <see cref="Items"/>).
    /// </summary>
    /// <param name="values">The array, when the method returns <see langword="true"/>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool TryGetValue(out T[]? values)
    {
        if (Items is not null)
        {
            values = null;
            return false;
        }

        if (Source is null)
        {
            values = _values;
            return true;
        }

        bool held = Source.TryTake(out T[] taken);
        values = taken;
        return held;
    }

    /// <summary>The input record of a whole array read from storage (used by generated stubs); null for a fan-in.</summary>
    /// <param name="offset">Where the array's bytes go in the encoded arguments.</param>
    /// <param name="parameter">The parameter's name.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RemoteInput? ToInput(long offset, string parameter) => Source is null ? null : new(checked((int)offset), parameter, Source);

    /// <inheritdoc/>
    public bool Equals(RemoteArrayArg<T> other) => ReferenceEquals(_values, other._values) && ReferenceEquals(Source, other.Source) && ReferenceEquals(Items, other.Items);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RemoteArrayArg<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_values, Source, Items);

    /// <summary>Whether two arguments are the same array, source or items.</summary>
    public static bool operator ==(RemoteArrayArg<T> left, RemoteArrayArg<T> right) => left.Equals(right);

    /// <summary>Whether two arguments differ.</summary>
    public static bool operator !=(RemoteArrayArg<T> left, RemoteArrayArg<T> right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() =>
        Items is { } items ? $"results of {items.Length} calls" : Source is { } source ? $"result of call {source.CallIndex} of job {source.JobId}" : $"{_values?.Length ?? 0} values";
}

/// <summary>
/// An argument of a <see cref="RemoteCall{TResult}"/> that is another call's result: the worker reads it from storage
/// and inserts its encoded bytes at <see cref="Offset"/> of the call's encoded arguments before the call runs.
/// </summary>
public sealed class RemoteInput
{
    private int _claimed;

    /// <summary>Creates the input (used by generated stubs, through <see cref="RemoteArg{T}.ToInput"/>).</summary>
    /// <param name="offset">Where the value's bytes go in the encoded arguments.</param>
    /// <param name="parameter">The parameter's name (errors name it).</param>
    /// <param name="source">The producing call.</param>
    public RemoteInput(int offset, string parameter, RemoteRef source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentException.ThrowIfNullOrEmpty(parameter);
        ArgumentNullException.ThrowIfNull(source);
        Offset = offset;
        Parameter = parameter;
        Source = source;
    }

    /// <summary>Where the value's bytes go in the encoded arguments.</summary>
    public int Offset { get; }

    /// <summary>The parameter's name.</summary>
    public string Parameter { get; }

    /// <summary>The producing call.</summary>
    public RemoteRef Source { get; }

    /// <summary>
    /// Hands the hold its stub took on the producing job (<see cref="RemoteRef{T}.TryTake"/>) to the first job that
    /// runs the call (used by the engine): true the first time only.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool TryClaim() => System.Threading.Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <inheritdoc/>
    public override string ToString() => $"'{Parameter}' at byte {Offset}: call {Source.CallIndex} of job {Source.JobId}";
}
