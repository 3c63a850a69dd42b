using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Neutral.Dispatch;

namespace Neutral.Providers;

/// <summary>
/// What a deployed worker carries (function id to signature hash, the hash as <c>InvocationEnvelope.FormatHash</c>
/// writes it), compared with the functions a job calls: what every
/// <see cref="IDeployedComputeBackend.VerifyDeploymentAsync"/> shares. An instance keeps what it last read for
/// <see cref="Lifetime"/>, and reads again at once on a mismatch (the worker may have been redeployed since).
/// </summary>
/// <param name="time">The clock the lifetime is measured on.</param>
public sealed class DeployedTables(TimeProvider time)
{
    private (IReadOnlyDictionary<string, string> Tables, DateTimeOffset Read)? _known;

    /// <summary>How long what was read is trusted.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Checks <paramref name="functions"/> against the tables kept, or against those <paramref name="read"/> returns
    /// (null: the platform could not say; the check is skipped).
    /// </summary>
    /// <exception cref="StaleWorkerException">The deployed tables lack a function or have another version of it.</exception>
    public async ValueTask VerifyAsync(IReadOnlyCollection<RemoteFunctionInfo> functions, Func<CancellationToken, Task<IReadOnlyDictionary<string, string>?>> read,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(functions);
        ArgumentNullException.ThrowIfNull(read);
        if (_known is { } known && time.GetUtcNow() - known.Read < Lifetime && Mismatch(known.Tables, functions) is null)
        {
            return;
        }

        IReadOnlyDictionary<string, string>? tables = await read(cancellationToken).ConfigureAwait(false);
        if (tables is null)
        {
            return;
        }

        _known = (tables, time.GetUtcNow());
        if (Mismatch(tables, functions) is { } stale)
        {
            throw stale;
        }
    }

    /// <summary>The tables of <paramref name="functions"/> (a process's <c>RemoteDispatch.Functions</c>): id to <c>InvocationEnvelope.FormatHash</c> of the signature hash.</summary>
    public static Dictionary<string, string> Of(IEnumerable<RemoteFunctionInfo> functions)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var tables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (RemoteFunctionInfo function in functions)
        {
            tables[function.Id] = Wire.InvocationEnvelope.FormatHash(function.SignatureHash);
        }

        return tables;
    }

    /// <summary>The tables' canonical text: one <c>id=hash</c> line per function, in ordinal order.</summary>
    public static string Text(IReadOnlyDictionary<string, string> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var text = new System.Text.StringBuilder();
        foreach (var (id, hash) in System.Linq.Enumerable.OrderBy(tables, t => t.Key, StringComparer.Ordinal))
        {
            text.Append(id).Append('=').Append(hash).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The digest of <see cref="Text"/>: lowercase hex SHA-256.</summary>
    public static string Digest(IReadOnlyDictionary<string, string> tables) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Text(tables))));

    /// <summary>Reads <see cref="Text"/> back (null for text that is not tables).</summary>
    public static Dictionary<string, string>? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = line.LastIndexOf('=');
            if (equals <= 0)
            {
                return null;
            }

            tables[line[..equals]] = line[(equals + 1)..];
        }

        return tables;
    }

    /// <summary>The first function of <paramref name="functions"/> the tables lack or have another version of, as the exception to throw; null when all match.</summary>
    public static StaleWorkerException? Mismatch(IReadOnlyDictionary<string, string> tables, IReadOnlyCollection<RemoteFunctionInfo> functions)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(functions);
        foreach (RemoteFunctionInfo function in functions)
        {
            if (!tables.TryGetValue(function.Id, out string? hash))
            {
                return new StaleWorkerException(function.Id, function.SignatureHash, null);
            }

            ulong? deployed = hash is { Length: 16 } && ulong.TryParse(hash, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value) ? value : null;
            if (deployed != function.SignatureHash)
            {
                return new StaleWorkerException(function.Id, function.SignatureHash, deployed);
            }
        }

        return null;
    }
}
