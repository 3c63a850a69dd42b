using System.Threading.Tasks;
using Neutral.Workers.Local;

namespace Neutral.Bench.Worker;

/// <summary>The NativeAOT worker: links the benchmark functions' dispatch table in and serves the local protocol.</summary>
public static class Program
{
    /// <summary>The entry point (the local provider passes the argument <c>local</c>).</summary>
    public static Task Main() => LocalWorker.ServeStandardStreamsAsync();
}
