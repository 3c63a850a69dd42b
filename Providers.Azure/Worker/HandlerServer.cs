using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Neutral.Providers.Azure.Worker;

/// <summary>
/// The custom handler's HTTP/1.1 server: the host's requests on <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> of the loopback
/// interface, each answered with a JSON body.
/// </summary>
/// <remarks>
/// Not <see cref="HttpListener"/>: the managed one of Linux and macOS fails its start when a connection arrives in the
/// middle of it (dotnet/corefx#35191), which is just when the Functions host connects to learn whether the handler is
/// up, and the connections it took are lost with it. Here the socket listens before anything else happens, and every
/// connection waits in its backlog until accepted. What it serves is what the host sends: invocations as POSTs with a
/// body of <c>Content-Length</c> bytes or chunked, its readiness pings (any other method, answered <c>{}</c>), on
/// keep-alive connections (one request at a time on each, several connections at once).
/// </remarks>
internal sealed class HandlerServer : IDisposable
{
    /// <summary>The longest request head (request line and headers) accepted.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    /// <summary>The largest request body accepted (the host's own limit on an HTTP request is 100 MB).</summary>
    public const int MaxBodyBytes = 128 * 1024 * 1024;

    private readonly Socket _socket;

    /// <summary>Binds <paramref name="port"/> of 127.0.0.1 (0: a free port) and listens.</summary>
    public HandlerServer(int port)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            _socket.Listen(512);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The port listened on.</summary>
    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Accepts connections and answers their requests with <paramref name="handle"/> (path without slashes, body) until cancelled.</summary>
    public async Task ServeAsync(Func<string, byte[], CancellationToken, Task<(int Status, byte[] Body)>> handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // Gone before it was accepted (the host's probe): the next one.
                continue;
            }

            _ = Task.Run(() => ServeConnectionAsync(connection, handle, cancellationToken), CancellationToken.None);
        }
    }

    private static async Task ServeConnectionAsync(Socket socket, Func<string, byte[], CancellationToken, Task<(int Status, byte[] Body)>> handle, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = new Reader(stream);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Request? request;
                byte[] body;
                try
                {
                    request = await ReadRequestAsync(reader, cancellationToken).ConfigureAwait(false);
                    if (request is null)
                    {
                        return;
                    }

                    if (request.ExpectsContinue)
                    {
                        await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                    }

                    body = await ReadBodyAsync(reader, request, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    // A request this server cannot read: said once, and the connection closed (its framing is lost).
                    await WriteResponseAsync(stream, 400, Encoding.UTF8.GetBytes(JsonMessage(e.Message)), close: true, cancellationToken).ConfigureAwait(false);
                    return;
                }

                // Invocations are POSTs; anything else is the host asking whether the handler is up (GET /, every
                // 25 ms until any HTTP answer), answered without a call.
                (int status, byte[] reply) = request.Method == "POST"
                    ? await HandleAsync(handle, request.Path, body, cancellationToken).ConfigureAwait(false)
                    : (200, "{}"u8.ToArray());
                await WriteResponseAsync(stream, status, reply, request.Close, cancellationToken).ConfigureAwait(false);
                if (request.Close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The host closed the connection (within a request, too): nobody to answer.
        }
    }

    /// <summary>The handler's answer; a failure of the handler itself is a 500, not a connection left without an answer.</summary>
    private static async Task<(int Status, byte[] Body)> HandleAsync(Func<string, byte[], CancellationToken, Task<(int Status, byte[] Body)>> handle, string path, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            return await handle(path, body, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine($"neutral: custom handler: /{path} failed: {e}");
            return (500, Encoding.UTF8.GetBytes(JsonMessage($"{e.GetType().FullName}: {e.Message}")));
        }
    }

    private static string JsonMessage(string message) => $"{{\"error\":\"{System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(message)}\"}}";

    /// <summary>One request's head.</summary>
    private sealed record Request(string Method, string Path, long? ContentLength, bool Chunked, bool Close, bool ExpectsContinue);

    /// <summary>Reads a request head; null at the end of the connection before one starts.</summary>
    private static async Task<Request?> ReadRequestAsync(Reader reader, CancellationToken cancellationToken)
    {
        string? line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        while (line is { Length: 0 })
        {
            // Empty lines before a request line are allowed (RFC 9112, 2.2).
            line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }

        if (line is null)
        {
            return null;
        }

        string[] parts = line.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            throw new InvalidDataException("not an HTTP/1.x request line");
        }

        string target = parts[1];
        int query = target.IndexOf('?', StringComparison.Ordinal);
        string path = Uri.UnescapeDataString(query < 0 ? target : target[..query]).Trim('/');
        bool close = parts[2] == "HTTP/1.0";
        long? length = null;
        bool chunked = false;
        bool expectsContinue = false;
        while (true)
        {
            string header = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidDataException("the connection ended within the request head");
            if (header.Length == 0)
            {
                break;
            }

            int colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException("a header line without a name");
            }

            string name = header[..colon].Trim();
            string value = header[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : throw new InvalidDataException("a Content-Length that is not a number");
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                close = value.Contains("close", StringComparison.OrdinalIgnoreCase) || (close && !value.Contains("keep-alive", StringComparison.OrdinalIgnoreCase));
            }
            else if (name.Equals("Expect", StringComparison.OrdinalIgnoreCase))
            {
                expectsContinue = value.Equals("100-continue", StringComparison.OrdinalIgnoreCase);
            }
        }

        return new Request(parts[0], path, length, chunked, close, expectsContinue);
    }

    private static async Task<byte[]> ReadBodyAsync(Reader reader, Request request, CancellationToken cancellationToken)
    {
        if (request.Chunked)
        {
            using var body = new MemoryStream();
            while (true)
            {
                string size = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidDataException("the connection ended within a chunked body");
                int extension = size.IndexOf(';', StringComparison.Ordinal);
                if (!int.TryParse(extension < 0 ? size : size[..extension], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int count) || count < 0)
                {
                    throw new InvalidDataException("a chunk size that is not a hexadecimal number");
                }

                if (count == 0)
                {
                    // Trailers, then the empty line.
                    while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { Length: > 0 })
                    {
                    }

                    return body.ToArray();
                }

                if (body.Length + (long)count > MaxBodyBytes)
                {
                    throw new InvalidDataException($"a body larger than {MaxBodyBytes} bytes");
                }

                byte[] chunk = await reader.ReadExactlyAsync(count, cancellationToken).ConfigureAwait(false);
                body.Write(chunk);
                if (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is not { Length: 0 })
                {
                    throw new InvalidDataException("a chunk not followed by its line end");
                }
            }
        }

        long length = request.ContentLength ?? 0;
        if (length > MaxBodyBytes)
        {
            throw new InvalidDataException($"a body larger than {MaxBodyBytes} bytes");
        }

        return await reader.ReadExactlyAsync((int)length, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteResponseAsync(Stream stream, int status, byte[] body, bool close, CancellationToken cancellationToken)
    {
        string head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n{(close ? "Connection: close\r\n" : "")}\r\n");
        byte[] bytes = new byte[Encoding.ASCII.GetByteCount(head) + body.Length];
        int written = Encoding.ASCII.GetBytes(head, bytes);
        body.CopyTo(bytes, written);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    /// <summary>Lines and counted bytes from a stream, through one buffer.</summary>
    private sealed class Reader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;
        private int _headBytes;

        /// <summary>A line without its CRLF (or LF); null at the end of the stream before any byte of it.</summary>
        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            // Most lines lie whole in the buffer; one split across reads is gathered here.
            MemoryStream? parts = null;
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    return parts is null ? null : throw new InvalidDataException("the connection ended within a line");
                }

                int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                int stop = newline < 0 ? _end : newline;
                _headBytes += stop - _start + 1;
                if (_headBytes > MaxHeadBytes)
                {
                    throw new InvalidDataException($"a request head longer than {MaxHeadBytes} bytes");
                }

                if (newline < 0)
                {
                    (parts ??= new MemoryStream()).Write(_buffer, _start, stop - _start);
                    _start = _end;
                    continue;
                }

                ReadOnlySpan<byte> tail = _buffer.AsSpan(_start, stop - _start);
                _start = newline + 1;
                byte[] line = parts is null ? tail.ToArray() : [.. parts.ToArray(), .. tail];
                int length = line.Length > 0 && line[^1] == '\r' ? line.Length - 1 : line.Length;
                if (length == 0)
                {
                    // The head's end: the next request counts afresh.
                    _headBytes = 0;
                }

                return Encoding.ASCII.GetString(line, 0, length);
            }
        }

        /// <summary>Exactly <paramref name="count"/> bytes.</summary>
        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            byte[] result = new byte[count];
            int have = Math.Min(count, _end - _start);
            Array.Copy(_buffer, _start, result, 0, have);
            _start += have;
            if (have < count)
            {
                await stream.ReadExactlyAsync(result.AsMemory(have), cancellationToken).ConfigureAwait(false);
            }

            return result;
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            return _end > 0;
        }
    }
}
