using Neutral.Wire;

namespace Neutral.Execution;

/// <summary>What an outcome record means for its call.</summary>
internal enum StatusAction
{
    /// <summary>The call succeeded: fetch and decode its result.</summary>
    Succeed,

    /// <summary>The call failed for good.</summary>
    Fail,

    /// <summary>The attempt failed in a way another attempt may fix: launch one.</summary>
    Retry,

    /// <summary>An older attempt's failure while a newer attempt runs: nothing to do.</summary>
    Ignore,
}

/// <summary>
/// Reads outcome records (protocol version 2): the create-only <c>status</c> is final (a success, or a failure no retry
/// would fix); a <c>failed.{a}</c> record is retried while the call's budget lasts, unless a newer attempt already
/// runs, and fails the call once the budget is spent.
/// </summary>
internal static class StatusInterpreter
{
    public static StatusAction Interpret(StatusRecord record, bool final, CallState state, int retries)
    {
        if (final)
        {
            return record.Succeeded ? StatusAction.Succeed : StatusAction.Fail;
        }

        if (record.Succeeded)
        {
            // A failed.{a} name never holds a success; treat a stray one as the final word it claims to be.
            return StatusAction.Succeed;
        }

        if (record.Attempt < state.Launched)
        {
            return StatusAction.Ignore;
        }

        return state.Faults < retries ? StatusAction.Retry : StatusAction.Fail;
    }
}
