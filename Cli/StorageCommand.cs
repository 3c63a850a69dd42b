using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using Spectre.Console;

namespace Neutral.Cli;

/// <summary><c>neutral storage ls|get|put|rm</c>: the configured store's user key space (the one <c>Cloud.Storage</c> sees).</summary>
internal static class StorageCommand
{
    public static Command Create(ToolContext context)
    {
        Command storage = new("storage", "Lists, reads, writes and deletes objects in the app's store, as Cloud.Storage sees it. Example: neutral storage ls data/");

        Argument<string> prefix = new("prefix") { Description = "Lists the keys that start with this.", DefaultValueFactory = _ => "" };
        Command ls = new("ls", "Lists keys and sizes under a prefix. Example: neutral storage ls inputs/") { prefix };
        ls.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            var table = new Table().AddColumns("key", "bytes");
            int count = 0;
            await foreach (ObjectInfo info in store.User.ListAsync(parsed.GetValue(prefix)!, cancellationToken))
            {
                table.AddRow(Markup.Escape(info.Key), info.Size.ToString(CultureInfo.InvariantCulture));
                count++;
            }

            if (count == 0)
            {
                await context.Output.WriteLineAsync($"No keys under '{parsed.GetValue(prefix)}' in {store.Location}.");
                return 0;
            }

            context.Console().Write(table);
            return 0;
        });

        Argument<string> key = new("key") { Description = "The object's key." };
        Option<string?> to = new("--output", "-o") { Description = "Write the object to this file instead of standard output." };
        Command get = new("get", "Writes an object to standard output or a file. Example: neutral storage get results/summary.json -o summary.json") { key, to };
        get.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            string name = parsed.GetValue(key)!;
            byte[] bytes = await store.User.GetAsync(name, cancellationToken) ?? throw new ToolException($"no object '{name}' in {store.Location}.");
            if (parsed.GetValue(to) is { } file)
            {
                string path = Path.GetFullPath(Path.Combine(context.Directory, file));
                await File.WriteAllBytesAsync(path, bytes, cancellationToken);
                await context.Output.WriteLineAsync($"Wrote {bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes to {path}.");
            }
            else
            {
                await context.Output.FlushAsync(cancellationToken);
                using Stream stdout = Console.OpenStandardOutput();
                if (ReferenceEquals(context.Output, Console.Out))
                {
                    await stdout.WriteAsync(bytes, cancellationToken);
                }
                else
                {
                    await context.Output.WriteAsync(System.Text.Encoding.UTF8.GetString(bytes));
                }
            }

            return 0;
        });

        Argument<string> putKey = new("key") { Description = "The object's key." };
        Argument<string> file = new("file") { Description = "The file to upload." };
        Command put = new("put", "Uploads a file as an object (replacing one of that key). Example: neutral storage put inputs/part-0 part-0.csv") { putKey, file };
        put.SetAction(async (parsed, cancellationToken) =>
        {
            string path = Path.GetFullPath(Path.Combine(context.Directory, parsed.GetValue(file)!));
            if (!File.Exists(path))
            {
                throw new ToolException($"no file {path}.");
            }

            await using OpenStore store = await context.OpenStoreAsync();
            byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            await store.User.PutAsync(parsed.GetValue(putKey)!, bytes, cancellationToken);
            await context.Output.WriteLineAsync($"Put {bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes at '{parsed.GetValue(putKey)}'.");
            return 0;
        });

        Argument<string> rmKey = new("key") { Description = "The object's key, or a prefix with --recursive." };
        Option<bool> recursive = new("--recursive", "-r") { Description = "Delete every object under the prefix." };
        Command rm = new("rm", "Deletes an object, or every object under a prefix. Example: neutral storage rm -r scratch/") { rmKey, recursive };
        rm.SetAction(async (parsed, cancellationToken) =>
        {
            await using OpenStore store = await context.OpenStoreAsync();
            string name = parsed.GetValue(rmKey)!;
            if (parsed.GetValue(recursive))
            {
                if (name.Length == 0 || name == "/")
                {
                    throw new ToolException("give a prefix to delete under (every object at once is not deleted this way).");
                }

                int deleted = await store.User.DeletePrefixAsync(name, cancellationToken);
                await context.Output.WriteLineAsync($"Deleted {deleted.ToString(CultureInfo.InvariantCulture)} objects under '{name}'.");
                return 0;
            }

            if (!await store.User.DeleteAsync(name, cancellationToken))
            {
                throw new ToolException($"no object '{name}' in {store.Location} (to delete a prefix, add --recursive).");
            }

            await context.Output.WriteLineAsync($"Deleted '{name}'.");
            return 0;
        });

        storage.Subcommands.Add(ls);
        storage.Subcommands.Add(get);
        storage.Subcommands.Add(put);
        storage.Subcommands.Add(rm);
        return storage;
    }
}
