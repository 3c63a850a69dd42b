using System;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Neutral.Providers.Redis;

/// <summary>
/// A Lua script called by its SHA1 (<c>EVALSHA</c>: the body is neither sent nor hashed again on the server per call);
/// on a server that does not have it yet (a node first used, or restarted), one <c>EVAL</c> runs it and caches it there.
/// </summary>
internal sealed class RedisScript
{
    private readonly string _text;
    private readonly byte[] _sha1;

    public RedisScript(string text)
    {
        _text = text;
        // The script cache's own key; SHA1 is what Redis names scripts by, not a security measure here.
#pragma warning disable CA5350
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
    }

    public async Task<RedisResult> EvaluateAsync(IDatabase db, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await db.ScriptEvaluateAsync(_sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(_text, keys, values).ConfigureAwait(false);
        }
    }
}
