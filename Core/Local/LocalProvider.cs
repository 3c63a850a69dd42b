using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using Neutral.Providers;
using Neutral.Wire;
using Neutral.Workers.Local;
using Neutral.Workers.Storage;

namespace Neutral.Local;

/// <summary>The built-in <c>local</c> provider: the worker-process pool and the file-system store.</summary>
internal static class LocalProvider
{
    public static void AddTo(ProviderRegistry registry)
    {
        LocalWorker.RegisterLocalStore();
        registry.AddStorage(LocalWorker.LocalStoreKind, OpenStore);
        registry.AddCompute("local", context =>
        {
            StoreLocation store = context.Store!.Location;
            if (!Storage.ObjectStores.IsRegistered(store.Kind))
            {
                throw new NeutralConfigurationException("Neutral:Storage", store.Kind,
                    $"local workers open the store through Neutral.Storage.ObjectStores, where no '{store.Kind}' kind is registered. The provider package registers it; with a store of your own, call ObjectStores.Register from a module initializer of your assembly.");
            }

            return new LocalComputeBackend(context.Options.Local, store, context.TimeProvider, context.Store!.WorkerEnvironment);
        });
    }

    private static StoreConnection OpenStore(ProviderContext context)
    {
        string root = context.Options.Local.Root;
        FileSystemObjectStore store;
        try
        {
            store = new FileSystemObjectStore(root);
            store.EnsureWritable();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new NeutralConfigurationException("Neutral:Local:Root", root, $"the folder cannot be created or written ({e.Message}).", e);
        }

        // Jobs' per-call control objects in memory where the machine has a memory-backed file system (and it takes
        // them), else beside everything else: the choice is made here, once, and handed to every worker.
        string placement = LocalWorker.JobDataDisk;
        if (context.Options.Local.JobData == LocalWorker.JobDataMemory && FileSystemObjectStore.DefaultControlRoot(store.Root) is { } memory)
        {
            try
            {
                var split = new FileSystemObjectStore(store.Root, memory);
                split.EnsureWritable();
                (store, placement) = (split, LocalWorker.JobDataMemory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not writable (another user's folder of that name, a full or read-only /dev/shm): on disk, as documented.
            }
        }

        LocalWorker.SetJobData(store.Root, placement);
        FileSystemObjectStore opened = store;
        return new StoreConnection(store, new StoreLocation(LocalWorker.LocalStoreKind, store.Root, Cloud.InternalPrefix), () =>
        {
            // A closed client leaves no empty folders in memory (a job kept with KeepData, or still running in another
            // client on the same root, keeps them).
            opened.RemoveEmptyControlRoot();
            return ValueTask.CompletedTask;
        })
        {
            WorkerEnvironment = new Dictionary<string, string> { [LocalWorker.JobDataVariable] = placement },
        };
    }
}
