using Neutral;

namespace Consumer.Lib;

public sealed record Square(int Side);

public static class Shapes
{
    [Remote]
    public static long Area(Square square) => (long)square.Side * square.Side;
}
