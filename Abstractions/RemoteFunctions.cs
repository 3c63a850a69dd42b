using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace Neutral;

/// <summary>
/// Every <see cref="RemoteFunction"/> of the assemblies loaded in this process, registered by generated code when an
/// assembly loads: what a client that did not submit a job uses to read its results (<c>Cloud.AttachAsync</c>).
/// </summary>
public static class RemoteFunctions
{
    private static readonly object s_gate = new();
    private static readonly Dictionary<string, List<RemoteFunction>> s_byId = new(StringComparer.Ordinal);

    /// <summary>Registers functions (used by generated code); registering one twice is harmless.</summary>
    /// <param name="functions">The functions.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register(params RemoteFunction[] functions)
    {
        ArgumentNullException.ThrowIfNull(functions);
        lock (s_gate)
        {
            foreach (RemoteFunction function in functions)
            {
                ArgumentNullException.ThrowIfNull(function, nameof(functions));
                if (!s_byId.TryGetValue(function.Id, out List<RemoteFunction>? known))
                {
                    s_byId[function.Id] = known = [];
                }

                if (!known.Exists(f => f.SignatureHash == function.SignatureHash))
                {
                    known.Add(function);
                }
            }
        }
    }

    /// <summary>The functions registered under <paramref name="id"/> (one per signature hash: several builds may be loaded).</summary>
    /// <param name="id">The function id.</param>
    public static IReadOnlyList<RemoteFunction> Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (s_gate)
        {
            return s_byId.TryGetValue(id, out List<RemoteFunction>? known) ? known.ToArray() : [];
        }
    }
}
