using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Emulators;

/// <summary>What the emulators share: ports and listeners on 127.0.0.1, the accept loop, replies, and a hold on their queues.</summary>
internal static class Loopback
{
    /// <summary>A port on 127.0.0.1 that nothing listens on now.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>
    /// The accept loop every emulator runs: takes requests from <paramref name="listener"/> until it is stopped, closed
    /// or aborted (or <paramref name="stop"/> fires), and hands each to <paramref name="handle"/> on a task of its own.
    /// </summary>
    public static async Task ServeAsync(HttpListener listener, Func<HttpListenerContext, Task> handle, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException || stop.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => handle(context), CancellationToken.None);
        }
    }

    /// <summary>
    /// Waits at most 10 s for an emulator's loops to end once it was told to stop: a loop ended by the stop, a closed
    /// listener or a completed queue has nothing more to say, and one that does not end is left behind.
    /// </summary>
    public static async Task StopLoopsAsync(System.Collections.Generic.IEnumerable<Task> loops)
    {
        try
        {
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or HttpListenerException or System.Threading.Channels.ChannelClosedException)
        {
        }
    }

    /// <summary>
    /// Answers with <paramref name="status"/> and <paramref name="body"/> (UTF-8, with its length) as
    /// <paramref name="contentType"/>, and closes the response; headers the platform adds are set before.
    /// </summary>
    public static async Task ReplyAsync(HttpListenerResponse response, int status, string contentType, string body)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        response.Close();
    }

    /// <summary>Answers with <paramref name="status"/> and the JSON text <paramref name="json"/>, and closes the response.</summary>
    public static Task JsonAsync(HttpListenerResponse response, int status, string json) => ReplyAsync(response, status, "application/json", json);

    /// <summary>
    /// Closes <paramref name="listener"/>, ignoring the error the managed listener may raise while it releases its
    /// endpoint (seen as "Address already in use" when another process took the port in between): the emulator is
    /// going away either way.
    /// </summary>
    public static void CloseQuietly(HttpListener? listener)
    {
        try
        {
            listener?.Close();
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>An <see cref="HttpListener"/> started on a free port of 127.0.0.1, and its address.</summary>
    public static (HttpListener Listener, Uri Address) Listen()
    {
        for (int attempt = 1; ; attempt++)
        {
            var address = new Uri($"http://127.0.0.1:{FreePort()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(address.ToString());
            try
            {
                listener.Start();
                return (listener, address);
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                // Taken between the probe and the start: another port.
                CloseQuietly(listener);
            }
        }
    }
}

/// <summary>
/// A platform's queue held in place, as a busy platform holds work: after <see cref="HoldAfter"/> lets some items
/// through, the rest wait in <see cref="TurnAsync"/> until <see cref="Release"/>.
/// </summary>
internal sealed class QueueHold
{
    private readonly Lock _lock = new();
    private int _allowance = int.MaxValue;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets <paramref name="count"/> more items through, then holds the others.</summary>
    public void HoldAfter(int count)
    {
        lock (_lock)
        {
            _allowance = count;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Lets every item through.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _allowance = int.MaxValue;
            _released.TrySetResult();
        }
    }

    /// <summary>Completes when the item may go on.</summary>
    public Task TurnAsync()
    {
        lock (_lock)
        {
            if (_allowance > 0)
            {
                if (_allowance != int.MaxValue)
                {
                    _allowance--;
                }

                return Task.CompletedTask;
            }

            return _released.Task;
        }
    }
}
