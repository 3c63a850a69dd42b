using System;
using System.Collections.Generic;
using System.Linq;

namespace Neutral;

/// <summary>A job finished with failed calls. Holds every failure and the results of the calls that succeeded.</summary>
public sealed class RemoteJobException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RemoteJobException(string jobId, int total, IReadOnlyList<RemoteException> failures, IReadOnlyList<object?> partialResults, IReadOnlyList<bool> succeeded)
        : base(Describe(jobId, total, failures))
    {
        JobId = jobId;
        Failures = failures;
        PartialResults = partialResults;
        Succeeded = succeeded;
    }

    /// <summary>The job.</summary>
    public string JobId { get; }

    /// <summary>Every failed call's exception, in call order.</summary>
    public IReadOnlyList<RemoteException> Failures { get; }

    /// <summary>Each call's result (boxed), <see langword="null"/> where it did not succeed; see <see cref="Succeeded"/>.</summary>
    public IReadOnlyList<object?> PartialResults { get; }

    /// <summary>Whether each call succeeded.</summary>
    public IReadOnlyList<bool> Succeeded { get; }

    /// <summary>The results of the calls that succeeded, by call index.</summary>
    public IReadOnlyDictionary<int, T> ResultsOf<T>() =>
        Enumerable.Range(0, PartialResults.Count).Where(i => Succeeded[i]).ToDictionary(i => i, i => (T)PartialResults[i]!);

    /// <summary>
    /// The exception as the runtime prints it when unhandled, followed by the first failure with its remote stack
    /// trace (where on the worker it was thrown), and how many more there are.
    /// </summary>
    public override string ToString()
    {
        if (Failures.Count == 0)
        {
            return base.ToString();
        }

        string more = Failures.Count > 1 ? $"{Environment.NewLine}--- and {Failures.Count - 1} more failures: see Failures ---" : string.Empty;
        return base.ToString() + Environment.NewLine + $"--- first failure: call {Failures[0].CallIndex} ---" + Environment.NewLine + Failures[0] + more;
    }

    private static string Describe(string jobId, int total, IReadOnlyList<RemoteException> failures)
    {
        string first = failures.Count == 0 ? string.Empty : $" First: call {failures[0].CallIndex}: {failures[0].RemoteTypeName}: {failures[0].Message}";
        return $"{failures.Count} of {total} calls of job {jobId} failed.{first}";
    }
}
