using System;
using System.IO;
using System.Threading.Tasks;
using Neutral.Workers.Local;

namespace Neutral.Workers;

/// <summary>
/// The generic local worker host: <c>dotnet exec --depsfile app.deps.json --runtimeconfig app.runtimeconfig.json
/// Neutral.Workers.dll local --assembly app.dll ...</c>. It loads the user's assemblies (their generated module
/// initializers register the dispatch tables) and serves calls over standard input and output. The user's own
/// <c>Main</c> never runs in a worker.
/// </summary>
public static class Program
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

        // The pipes carry the protocol; the user's console output goes to the running call's log.
        Stream input = Console.OpenStandardInput();
        Stream output = Console.OpenStandardOutput();
        TextWriter error = Console.Error;
        Console.SetOut(new CallLogRouter(TextWriter.Null));
        Console.SetError(new CallLogRouter(error));
        await LocalWorker.RunAsync(input, output).ConfigureAwait(false);
        return 0;
    }
}
