using System;
using System.Threading.Tasks;
using Xunit;

namespace Neutral.Testing.Compute;

/// <summary>
/// A rig of an emulated platform over a <see cref="StoreFixture"/>: the store is created first (on its restartable
/// server when the options ask for one) and removed last, after the platform has stopped; restarting the store restarts
/// its server.
/// </summary>
/// <typeparam name="TStore">The provider's store fixture.</typeparam>
public abstract class PlatformRig<TStore> : ComputeRig
    where TStore : StoreFixture
{
    private TStore? _store;
    private bool _restartable;

    /// <summary>The store fixture (after <see cref="StartAsync"/>).</summary>
    protected TStore Fixture => _store ?? throw new InvalidOperationException("StartAsync first");

    /// <inheritdoc/>
    public override IObjectStore Store => Fixture.Store;

    /// <summary>A new store fixture, on the restartable server when <paramref name="restartable"/>.</summary>
    protected abstract TStore CreateStore(bool restartable);

    /// <summary>Starts the platform, once the store is ready.</summary>
    protected abstract Task StartPlatformAsync(RigOptions options);

    /// <summary>Stops the platform, before the store is removed.</summary>
    protected abstract ValueTask StopPlatformAsync();

    /// <inheritdoc/>
    public sealed override async Task StartAsync(RigOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _restartable = options.RestartableStore;
        _store = CreateStore(options.RestartableStore);
        await _store.InitializeAsync();
        await StartPlatformAsync(options);
    }

    /// <inheritdoc/>
    public override Task RestartStoreAsync()
    {
        Assert.True(_restartable, "the rig was not started on the restartable store server");
        Fixture.RestartServer();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public sealed override async ValueTask DisposeAsync()
    {
        await StopPlatformAsync();
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
