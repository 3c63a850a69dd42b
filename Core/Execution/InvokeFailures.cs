using System;
using System.Net.Http;
using System.Net.Sockets;

namespace Neutral.Execution;

/// <summary>What an invoke's exception says about the attempt: whether the platform can have it.</summary>
internal enum InvokeFailure
{
    /// <summary>The platform refused it for now (<see cref="ThrottledException"/>): wait, send it again, no attempt spent.</summary>
    Throttled,

    /// <summary>No connection could be made (refused, no route, no such host): certainly not delivered; back off and send it again.</summary>
    Unreachable,

    /// <summary>The request went out and no answer came in time: the platform may be running it, its status decides.</summary>
    MaybeDelivered,

    /// <summary>Anything else: the attempt failed (a platform fault, retried as a new attempt while the budget lasts).</summary>
    Refused,
}

/// <summary>Sorts an invoke's exception into an <see cref="InvokeFailure"/>, through wrappers (SDK exceptions, aggregates).</summary>
internal static class InvokeFailures
{
    public static InvokeFailure Classify(Exception e)
    {
        if (e is ThrottledException)
        {
            return InvokeFailure.Throttled;
        }

        // HttpClient's own timeout is a TaskCanceledException holding a TimeoutException (the caller's cancellation is
        // handled before this is asked).
        if (e is TimeoutException || (e is OperationCanceledException && e.InnerException is TimeoutException))
        {
            return InvokeFailure.MaybeDelivered;
        }

        for (Exception? inner = e; inner is not null; inner = inner is AggregateException { InnerExceptions.Count: 1 } one ? one.InnerExceptions[0] : inner.InnerException)
        {
            switch (inner)
            {
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }:
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound or SocketError.TryAgain }:
                    return InvokeFailure.Unreachable;
                case ThrottledException:
                    return InvokeFailure.Throttled;
            }
        }

        return InvokeFailure.Refused;
    }
}
