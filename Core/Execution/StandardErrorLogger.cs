using System;
using Microsoft.Extensions.Logging;

namespace Neutral.Execution;

/// <summary>The logger behind <c>NEUTRAL_TRACE=1</c> when no logger factory is configured: every message to standard error.</summary>
internal sealed class StandardErrorLogger : ILogger
{
    public static readonly StandardErrorLogger Instance = new(LogLevel.Trace);

    /// <summary>Warnings and errors only: a worker's launcher calls, whose standard error is the platform's log.</summary>
    public static readonly StandardErrorLogger Warnings = new(LogLevel.Warning);

    private readonly LogLevel _minimum;

    private StandardErrorLogger(LogLevel minimum) => _minimum = minimum;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        Console.Error.WriteLine($"neutral {logLevel}: {formatter(state, exception)}{(exception is null ? string.Empty : " (" + exception.GetType().Name + ")")}");
    }
}
