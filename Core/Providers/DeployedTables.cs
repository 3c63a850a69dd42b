using System;
using System.Collections.Generic;
using System.Globalization;
using Neutral.Dispatch;

namespace Neutral.Providers;

/// <summary>
/// Comparing what a deployed worker carries (function id to signature hash, the hash as
/// <c>InvocationEnvelope.FormatHash</c> writes it) with the functions a job calls: what every
/// <see cref="IDeployedComputeBackend.VerifyDeploymentAsync"/> shares.
/// </summary>
public static class DeployedTables
{
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
