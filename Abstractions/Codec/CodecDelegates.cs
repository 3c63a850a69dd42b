namespace Neutral.Codec;

/// <summary>Decodes one value of <typeparamref name="T"/> (generated codecs supply these).</summary>
public delegate T CodecRead<T>(ref CodecReader reader);

/// <summary>Encodes one value of <typeparamref name="T"/> (generated codecs supply these).</summary>
public delegate void CodecWrite<T>(ref CodecWriter writer, T value);
