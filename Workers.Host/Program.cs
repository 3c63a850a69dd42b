using System;
using System.Threading.Tasks;
using Neutral.Workers.Local;

namespace Neutral.Workers.Host;

/// <summary>
/// The generic local worker host: <c>dotnet exec --depsfile app.deps.json --runtimeconfig app.runtimeconfig.json
/// Neutral.Workers.Host.dll local --assembly app.dll ...</c>. It loads the user's assemblies (their generated module
/// initializers register the dispatch tables) and serves calls over standard input and output. The user's own
/// <c>Main</c> never runs in a worker.
/// </summary>
internal static class Program
{
    /// <summary>The entry point.</summary>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] != "local")
        {
            await Console.Error.WriteLineAsync("usage: Neutral.Workers local --assembly <path> [--assembly <path> ...]").ConfigureAwait(false);
            return 2;
        }

        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--assembly" && i + 1 < args.Length)
            {
                AssemblyLoader.Load(args[++i]);
            }
            else
            {
                await Console.Error.WriteLineAsync($"Unknown argument '{args[i]}'.").ConfigureAwait(false);
                return 2;
            }
        }

        await LocalWorker.ServeStandardStreamsAsync().ConfigureAwait(false);
        return 0;
    }
}
