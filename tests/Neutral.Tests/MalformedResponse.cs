using System;

namespace System.Net.Http;

/// <summary>Stands for the HTTP stack's status-line parser: an exception thrown from a method of this namespace.</summary>
internal static class MalformedResponse
{
    public static Exception Thrown()
    {
        try
        {
            throw new ArgumentOutOfRangeException();
        }
        catch (ArgumentOutOfRangeException e)
        {
            return e;
        }
    }
}
