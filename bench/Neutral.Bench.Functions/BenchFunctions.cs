namespace Neutral.Bench;

/// <summary>Functions whose cost is the executor's own: they do (almost) nothing.</summary>
public static class BenchFunctions
{
    /// <summary>Returns its argument.</summary>
    [Remote]
    public static int Noop(int value) => value;

    /// <summary>Forces this assembly's module initializer (and so its dispatch table) to run.</summary>
    public static void EnsureRegistered()
    {
    }
}
