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
    /// <summary>An event lost because no per-thread storage could hold the write until its exit.</summary>
    PendingFull = 3,
    /// <summary>A process untracked because an unprivileged registration exec'd a privilege-gaining program.</summary>
    UntrackedOnExec = 4,
    /// <summary>A lifecycle record lost because its ring buffer had no room.</summary>
    LifecycleFull = 5,
}
