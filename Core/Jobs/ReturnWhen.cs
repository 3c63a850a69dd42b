using System;
using System.Globalization;

namespace Neutral;

/// <summary>When <c>RemoteJob.WaitAsync</c> returns: all calls done, any one done, or a share of them done.</summary>
public sealed class ReturnWhen
{
    private ReturnWhen(double fraction, string name)
    {
        Fraction = fraction;
        _name = name;
    }

    private readonly string _name;

    /// <summary>When every call has an outcome.</summary>
    public static ReturnWhen All { get; } = new(1.0, "All");

    /// <summary>When at least one call has an outcome.</summary>
    public static ReturnWhen Any { get; } = new(double.Epsilon, "Any");

    /// <summary>When at least <paramref name="percent"/> % of the calls have an outcome.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is not in (0, 100].</exception>
    public static ReturnWhen Percent(double percent)
    {
        if (!(percent > 0 && percent <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "A percentage of calls must be greater than 0 and at most 100.");
        }

        return new ReturnWhen(percent / 100.0, "Percent(" + percent.ToString(CultureInfo.InvariantCulture) + ")");
    }

    /// <summary>The share of calls needed, in (0, 1].</summary>
    public double Fraction { get; }

    /// <summary>How many of <paramref name="total"/> calls must be done.</summary>
    public int Needed(int total) => total == 0 ? 0 : Math.Clamp((int)Math.Ceiling(total * Fraction - 1e-9), 1, total);

    /// <inheritdoc/>
    public override string ToString() => _name;
}
