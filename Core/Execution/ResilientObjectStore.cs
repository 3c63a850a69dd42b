using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Neutral.Storage;
using Polly;
using Polly.Retry;

namespace Neutral.Execution;

/// <summary>
/// The client's view of a store: each operation retried through transient errors (timeouts, 5xx, throttling) with
/// exponential back-off and jitter (Polly), for at most <c>Job:StoreRetrySeconds</c>; past that the operation fails
/// with <see cref="StoreUnavailableException"/>, one clear error naming the operation and the key. A listing is retried
/// only until it yields its first object (the caller polls again).
/// </summary>
internal sealed class ResilientObjectStore : IObjectStore, IBulkDeletingObjectStore, IObjectStoreWrapper
{
    private static readonly ResiliencePropertyKey<long> StartKey = new("neutral.store.start");
    private readonly IObjectStore _inner;
    private readonly TimeProvider _time;
    private readonly TimeSpan _bound;
    private readonly ResiliencePipeline _pipeline;

    /// <summary>The store this one serves.</summary>
    public IObjectStore Inner => _inner;

    public ResilientObjectStore(IObjectStore inner, TimeProvider time, TimeSpan bound, ILogger logger)
    {
        _inner = inner;
        _time = time;
        _bound = bound;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    TransientErrors.IsTransient(args.Outcome.Exception)
                    && !args.Context.CancellationToken.IsCancellationRequested
                    && Elapsed(args.Context) < _bound),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                MaxDelay = TimeSpan.FromSeconds(2),
                OnRetry = args =>
                {
                    Log.StoreRetry(logger, args.Outcome.Exception?.Message, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            })
            .Build();
    }

    private TimeSpan Elapsed(ResilienceContext context) =>
        context.Properties.TryGetValue(StartKey, out long start) ? _time.GetElapsedTime(start) : TimeSpan.Zero;

    private async Task<TResult> RunAsync<TResult, TState>(string operation, string key, TState state, Func<IObjectStore, TState, CancellationToken, Task<TResult>> action, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StartKey, _time.GetTimestamp());
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (ctx, s) => await s.Action(s.Inner, s.State, ctx.CancellationToken).ConfigureAwait(false),
                context,
                (Inner: _inner, State: state, Action: action)).ConfigureAwait(false);
        }
        catch (Exception e) when (TransientErrors.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            throw new StoreUnavailableException(
                $"The store failed to {operation} '{key}' for {Elapsed(context).TotalSeconds:0.#} s (Job:StoreRetrySeconds is {_bound.TotalSeconds:0.#}): {e.Message}", e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        RunAsync("write", key, (key, data), static async (s, a, ct) =>
        {
            await s.PutAsync(a.key, a.data, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        RunAsync("create", key, (key, data), static (s, a, ct) => s.TryCreateAsync(a.key, a.data, ct), cancellationToken);

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync("read", key, key, static (s, k, ct) => s.GetAsync(k, ct), cancellationToken);

    public Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        RunAsync("read", key, (key, offset, length), static (s, a, ct) => s.GetRangeAsync(a.key, a.offset, a.length, ct), cancellationToken);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync("delete", key, key, static (s, k, ct) => s.DeleteAsync(k, ct), cancellationToken);

    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default) =>
        RunAsync("delete everything under", prefix, prefix, static (s, p, ct) => s.DeletePrefixAsync(p, ct), cancellationToken);

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Retried until the first object arrives; a failure later ends this listing (the executor lists again).
        var (enumerator, first) = await RunAsync("list", prefix, prefix, static async (s, p, ct) =>
        {
            IAsyncEnumerator<ObjectInfo> e = s.ListAsync(p, ct).GetAsyncEnumerator(ct);
            try
            {
                return (e, await e.MoveNextAsync().ConfigureAwait(false));
            }
            catch
            {
                await e.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
        await using (enumerator.ConfigureAwait(false))
        {
            if (!first)
            {
                yield break;
            }

            yield return enumerator.Current;
            while (await enumerator.MoveNextAsync().ConfigureAwait(false))
            {
                yield return enumerator.Current;
            }
        }
    }
}

/// <summary>A store stayed unreachable for longer than <c>Job:StoreRetrySeconds</c>.</summary>
internal sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
