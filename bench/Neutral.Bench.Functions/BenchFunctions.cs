namespace Neutral.Bench;

/// <summary>Functions whose cost is the executor's own: they do (almost) nothing.</summary>
public static class BenchFunctions
{
    /// <summary>Returns its argument.</summary>
    [Remote]
    public static int Noop(int value) => value;

    /// <summary>Waits a millisecond (a call that waits on I/O, say) and returns its argument.</summary>
    [Remote]
    public static async System.Threading.Tasks.Task<int> WaitOneMillisecond(int value)
    {
        await System.Threading.Tasks.Task.Delay(1);
        return value;
    }

    /// <summary>Forces this assembly's module initializer (and so its dispatch table) to run.</summary>
    public static void EnsureRegistered()
    {
    }
}
