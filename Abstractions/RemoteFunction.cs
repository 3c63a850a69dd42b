using System;
using Neutral.Codec;

namespace Neutral;

/// <summary>
/// Describes one <see cref="RemoteAttribute">[Remote]</see> method: its id, signature hash and options.
/// Generated code creates one instance per method.
/// </summary>
public abstract class RemoteFunction
{
    /// <summary>Creates the description.</summary>
    protected RemoteFunction(string id, ulong signatureHash, RemoteFunctionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Id = id;
        SignatureHash = signatureHash;
        Options = options;
    }

    /// <summary>The function id: the canonical signature <c>Namespace.Type.Method(ParamType,...)</c>, or the explicit id.</summary>
    public string Id { get; }

    /// <summary>A 64-bit hash of the canonical signature, the shapes of its types and the codec version.</summary>
    public ulong SignatureHash { get; }

    /// <summary>The options set on the attribute; unset ones are <see langword="null"/>.</summary>
    public RemoteFunctionOptions Options { get; }

    /// <inheritdoc/>
    public override string ToString() => Id;
}

/// <summary>A <see cref="RemoteFunction"/> whose result is a <typeparamref name="TResult"/>.</summary>
/// <typeparam name="TResult">The result type (<see cref="Unit"/> for methods that return nothing).</typeparam>
public sealed class RemoteFunction<TResult> : RemoteFunction
{
    private readonly CodecRead<TResult> _readResult;

    /// <summary>Creates the description (called by generated code).</summary>
    public RemoteFunction(string id, ulong signatureHash, RemoteFunctionOptions options, CodecRead<TResult> readResult)
        : base(id, signatureHash, options)
    {
        ArgumentNullException.ThrowIfNull(readResult);
        _readResult = readResult;
    }

    /// <summary>Decodes an encoded result of this function.</summary>
    /// <exception cref="CodecException">The bytes are not a valid result of this function.</exception>
    public TResult DecodeResult(ReadOnlySpan<byte> encoded)
    {
        var reader = new CodecReader(encoded);
        try
        {
            TResult result = _readResult(ref reader);
            reader.EnsureEnd();
            return result;
        }
        catch (CodecException e)
        {
            throw e.ForFunction(Id);
        }
    }
}

/// <summary>The options of a <see cref="RemoteAttribute">[Remote]</see> method; <see langword="null"/> means "use the job's setting".</summary>
/// <param name="Retries">Attempts after the first one.</param>
/// <param name="TimeoutSeconds">Seconds after which an attempt is abandoned.</param>
/// <param name="MemoryMb">Worker memory in MiB.</param>
/// <param name="RetryOnException">Whether user exceptions are retried.</param>
public readonly record struct RemoteFunctionOptions(int? Retries, int? TimeoutSeconds, int? MemoryMb, bool RetryOnException);
