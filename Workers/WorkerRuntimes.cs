using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Workers;

/// <summary>
/// The ways a process can serve as a worker, by name: <c>local</c> (the local pool's pipes) is built in; a provider
/// registers its platform's loop (<c>openwhisk</c>: the action loop) from a module initializer. A process started with
/// <c>NEUTRAL_WORKER=name</c> runs that loop before the application's <c>Main</c> (a startup hook under the JIT, the
/// generated module initializer under NativeAOT) and exits when it ends.
/// </summary>
public static class WorkerRuntimes
{
    private static readonly ConcurrentDictionary<string, Func<CancellationToken, Task>> s_runtimes = new(StringComparer.Ordinal);

    /// <summary>Registers the loop that serves calls as a worker of <paramref name="name"/> (idempotent per name: the first wins).</summary>
    public static void Register(string name, Func<CancellationToken, Task> serve)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(serve);
        s_runtimes.TryAdd(name, serve);
    }

    /// <summary>The names registered in this process.</summary>
    internal static ICollection<string> Names => s_runtimes.Keys;

    /// <summary>The loop registered under <paramref name="name"/>, if any.</summary>
    public static Func<CancellationToken, Task>? Find(string name) => s_runtimes.TryGetValue(name, out var serve) ? serve : null;
}
