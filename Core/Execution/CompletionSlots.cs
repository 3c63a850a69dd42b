using System;
using System.Collections.Generic;

namespace Neutral.Execution;

/// <summary>
/// The job's launch slots (protocol version 3): every attempt gets the next place in launch order, <see cref="Size"/>
/// places a slot, and its worker writes its markers into that slot's folder. A slot is listed from the moment one of its
/// attempts is accepted until every call it holds has an outcome, so a poll lists the slots of the calls in flight (and
/// of stragglers), never the job. Monitor task only.
/// </summary>
internal sealed class CompletionSlots
{
    /// <summary>
    /// Attempts per slot: their markers (started, then status or failed) fit one listing page of S3, MinIO or Redis
    /// (1,000 keys) with room for retries and duplicates, and a slot with one straggler left costs one request a poll.
    /// </summary>
    public const int Size = 400;

    private readonly List<Slot> _slots = [];
    private readonly List<int> _active = [];
    private int _assigned;

    /// <summary>The slots listed now: an attempt in each was accepted, and some call in each has no outcome yet.</summary>
    public IReadOnlyList<int> Active => _active;

    /// <summary>How many slots were given out.</summary>
    public int Count => _slots.Count;

    public Slot this[int slot] => _slots[slot];

    /// <summary>
    /// Starts giving out slots at <paramref name="slot"/> (a client that takes a job over: the slots before are another
    /// client's, and stay closed here).
    /// </summary>
    public void SkipTo(int slot)
    {
        while (_slots.Count < slot)
        {
            _slots.Add(new Slot { Closed = true });
        }

        _assigned = Math.Max(_assigned, slot * Size);
    }

    /// <summary>Gives the next attempt of call <paramref name="index"/> its slot.</summary>
    public int Assign(int index)
    {
        int slot = _assigned / Size;
        if (slot == _slots.Count)
        {
            _slots.Add(new Slot());
        }

        Slot s = _slots[slot];
        s.Calls[s.Count++] = index;
        _assigned++;
        return slot;
    }

    /// <summary>An attempt in <paramref name="slot"/> was accepted: the slot is listed from <paramref name="due"/> on.</summary>
    /// <returns>Whether the slot became active now.</returns>
    public bool Activate(int slot, DateTimeOffset due)
    {
        if ((uint)slot >= (uint)_slots.Count)
        {
            return false;
        }

        Slot s = _slots[slot];
        if (s.Active || s.Closed)
        {
            return false;
        }

        s.Active = true;
        s.Next = due;
        _active.Add(slot);
        return true;
    }

    /// <summary>Closes <paramref name="slot"/> when every call it holds has an outcome; returns whether it is closed.</summary>
    public bool CloseIfDone(int slot, CallState[] state)
    {
        Slot s = _slots[slot];
        if (s.Closed)
        {
            return true;
        }

        for (int k = 0; k < s.Count; k++)
        {
            if (!state[s.Calls[k]].Done)
            {
                return false;
            }
        }

        s.Closed = true;
        if (s.Active)
        {
            _active.Remove(slot);
        }

        return true;
    }

    /// <summary>One slot: the calls whose attempts it holds, and when it is listed next.</summary>
    internal sealed class Slot
    {
        public readonly int[] Calls = new int[Size];
        public int Count;
        public bool Active;
        public bool Closed;

        /// <summary>When the slot is listed next (without hints).</summary>
        public DateTimeOffset Next;

        /// <summary>The slot's own back-off: doubled by each listing without news, reset by news.</summary>
        public TimeSpan Interval;
    }
}
