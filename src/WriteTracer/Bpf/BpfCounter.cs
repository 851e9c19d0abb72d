namespace WriteTracer.Bpf;

/// <summary>Slots of the per-CPU counters map (<c>enum wt_counter</c>).</summary>
internal enum BpfCounter
{
    /// <summary>An event lost because the ring buffer had no room.</summary>
    RingBufferFull = 0,
    /// <summary>An event sent without data because the writer's buffer was unreadable.</summary>
    ReadFailed = 1,
    /// <summary>A child not inherited because the tracked map was full.</summary>
    TrackedMapFull = 2,
    /// <summary>An event lost because too many writes were in flight to hold until their exit.</summary>
    PendingFull = 3,
}
