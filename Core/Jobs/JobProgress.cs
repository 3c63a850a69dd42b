namespace Neutral;

/// <summary>A job's counts at one moment, raised by <c>RemoteJob.Progress</c>.</summary>
/// <param name="Total">Calls in the job.</param>
/// <param name="Succeeded">Calls with a result.</param>
/// <param name="Failed">Calls that failed for good.</param>
/// <param name="Cancelled">Calls cancelled.</param>
/// <param name="Running">Calls seen running.</param>
public readonly record struct JobProgress(int Total, int Succeeded, int Failed, int Cancelled, int Running)
{
    /// <summary>Calls with an outcome.</summary>
    public int Done => Succeeded + Failed + Cancelled;

    /// <summary>Calls not yet seen running.</summary>
    public int Pending => Total - Done - Running;

    /// <summary>The share done, 0 to 1.</summary>
    public double Fraction => Total == 0 ? 1 : (double)Done / Total;
}
