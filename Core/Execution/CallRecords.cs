using System;
using System.Collections.Generic;
using System.Threading;

namespace Neutral.Execution;

/// <summary>
/// Every call's state and statistics, packed: a byte of state and a fixed-size record of times (UTC ticks), bytes and
/// attempts per call, the workers' host names in one table, logs only for calls that wrote one. A
/// <see cref="CallStats"/> is made when someone asks for one. Written by the job's monitor task; read from any thread.
/// </summary>
internal sealed class CallRecords
{
    private readonly byte[] _states;
    private readonly Facts[] _records;
    private readonly DateTimeOffset _submitted;
    private readonly List<string> _hosts = [];
    private readonly Dictionary<string, int> _hostIndex = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Dictionary<int, string>? _logs;

    public CallRecords(int count, DateTimeOffset submitted)
    {
        _states = new byte[count];
        _records = new Facts[count];
        _submitted = submitted;
    }

    public int Count => _states.Length;

    public RemoteCallState StateOf(int index) => (RemoteCallState)Volatile.Read(ref _states[index]);

    /// <summary>Pending to running; false when the call is past pending.</summary>
    public void MarkRunning(int index) => Interlocked.CompareExchange(ref _states[index], (byte)RemoteCallState.Running, (byte)RemoteCallState.Pending);

    /// <summary>Moves a pending or running call to <paramref name="final"/>; false when it had an end already.</summary>
    public bool TryClaim(int index, RemoteCallState final)
    {
        byte state = Volatile.Read(ref _states[index]);
        while (state is (byte)RemoteCallState.Pending or (byte)RemoteCallState.Running)
        {
            byte seen = Interlocked.CompareExchange(ref _states[index], (byte)final, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }

    /// <summary>A newer attempt was started.</summary>
    public void AttemptStarted(int index, int attempt) => _records[index].AttemptsStarted = (short)Math.Min(attempt, short.MaxValue);

    /// <summary>Records the outcome's facts; <paramref name="fetched"/> when the result was decoded.</summary>
    public void Record(int index, DateTimeOffset? invoked, Wire.StatusRecord status, DateTimeOffset seen, DateTimeOffset? fetched)
    {
        ref Facts r = ref _records[index];
        r.Invoked = invoked is { } i ? i.UtcTicks : r.Invoked;
        r.WorkerStart = status.WorkerStart.UtcTicks;
        r.WorkerEnd = status.WorkerEnd.UtcTicks;
        r.StatusSeen = seen.UtcTicks;
        r.ResultFetched = fetched is { } f ? f.UtcTicks : r.ResultFetched;
        r.Attempt = (short)Math.Clamp(status.Attempt, 0, short.MaxValue);
        r.ColdStart = status.ColdStart;
        r.BytesIn = (int)Math.Clamp(status.BytesIn, 0, int.MaxValue); // a call's bytes fit an array
        r.BytesOut = (int)Math.Clamp(status.BytesOut, 0, int.MaxValue);
        r.Host = HostIndex(status.Host);
        if (status.Log is { Length: > 0 } log)
        {
            lock (_lock)
            {
                (_logs ??= [])[index] = log;
            }
        }
    }

    public CallStats StatsOf(int index)
    {
        Facts r = _records[index];
        string? log = null;
        if (_logs is not null)
        {
            lock (_lock)
            {
                _logs.TryGetValue(index, out log);
            }
        }

        string? host = null;
        if (r.Host > 0)
        {
            lock (_lock)
            {
                host = _hosts[r.Host - 1];
            }
        }

        return new CallStats
        {
            Submitted = _submitted,
            Invoked = Time(r.Invoked),
            WorkerStart = Time(r.WorkerStart),
            WorkerEnd = Time(r.WorkerEnd),
            StatusSeen = Time(r.StatusSeen),
            ResultFetched = Time(r.ResultFetched),
            Attempt = r.Attempt == 0 ? 1 : r.Attempt,
            AttemptsStarted = r.AttemptsStarted == 0 ? 1 : r.AttemptsStarted,
            ColdStart = r.ColdStart,
            BytesIn = r.BytesIn,
            BytesOut = r.BytesOut,
            WorkerHost = host,
            Log = log,
        };
    }

    /// <summary>What the job used so far: attempts started, and the worker time of each call with an outcome, rounded up to the millisecond.</summary>
    public JobUsage Usage()
    {
        int invocations = 0, completed = 0;
        long milliseconds = 0;
        for (int i = 0; i < _records.Length; i++)
        {
            Facts r = _records[i];
            invocations += r.AttemptsStarted == 0 ? 1 : r.AttemptsStarted;
            if (r.WorkerStart != 0 && r.WorkerEnd != 0)
            {
                completed++;
                milliseconds += (long)Math.Ceiling(Math.Max(0, TimeSpan.FromTicks(r.WorkerEnd - r.WorkerStart).TotalMilliseconds));
            }
        }

        return new JobUsage(_records.Length, invocations, milliseconds, completed);
    }

    private int HostIndex(string? host)
    {
        if (host is null)
        {
            return 0;
        }

        lock (_lock)
        {
            if (!_hostIndex.TryGetValue(host, out int index))
            {
                _hosts.Add(host);
                index = _hosts.Count;
                _hostIndex[host] = index;
            }

            return index;
        }
    }

    private static DateTimeOffset? Time(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    /// <summary>One call's facts: 64 bytes.</summary>
    private struct Facts
    {
        public long Invoked;
        public long WorkerStart;
        public long WorkerEnd;
        public long StatusSeen;
        public long ResultFetched;
        public int BytesIn;
        public int BytesOut;
        public int Host;
        public short Attempt;
        public short AttemptsStarted;
        public bool ColdStart;
    }
}
