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
