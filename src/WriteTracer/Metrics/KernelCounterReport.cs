using WriteTracer.Bpf;

namespace WriteTracer.Metrics;

/// <summary>
/// Where one kernel counter slot is reported: the /metrics series it adds to, and its
/// words in the exit summary. <see cref="All"/> has a row for every <see cref="BpfCounter"/>,
/// and a unit test fails when a slot is missing from /metrics or the summary.
/// </summary>
/// <param name="Metric">The counter family the slot is added to.</param>
/// <param name="Stage">The <c>stage</c> label within <c>write_tracer_events_dropped_total</c>, or null for a family of its own.</param>
/// <param name="Help">The HELP of a family of its own (null for a stage).</param>
/// <param name="Summary">The words the exit summary puts before the count, when it is not zero.</param>
internal sealed record KernelCounterReport(BpfCounter Counter, string Metric, string? Stage, string? Help, string Summary)
{
    public const string DroppedEvents = "write_tracer_events_dropped_total";

    public static IReadOnlyList<KernelCounterReport> All { get; } =
    [
        new(BpfCounter.RingBufferFull, DroppedEvents, "kernel", null, "ring buffer full"),
        new(BpfCounter.PendingFull, DroppedEvents, "kernel", null, "no per-thread storage (--capture-at exit)"),
        new(BpfCounter.LifecycleFull, DroppedEvents, "lifecycle", null, "lifecycle records lost"),
        new(BpfCounter.ReadFailed, "write_tracer_capture_failures_total", null,
            "Captured write(2) calls whose buffer the kernel could not read (their events carry no data)", "unreadable buffers"),
        new(BpfCounter.TrackedMapFull, "write_tracer_untraced_children_total", null,
            "Child processes not traced because the kernel's tracked-process map was full (see --max-tracked-processes)",
            "untraced children (tracked-process map full)"),
        new(BpfCounter.UntrackedOnExec, "write_tracer_untracked_on_exec_total", null,
            "Processes no longer traced because a registration made by an unprivileged caller exec'd a program that gains privileges (setuid, setgid, file capabilities)",
            "untracked on a privilege-gaining exec"),
    ];

    /// <summary>The write events the kernel lost (the kernel stage of the drops): issued = captured + this.</summary>
    public static ulong KernelDrops(Func<BpfCounter, ulong> read) =>
        All.Where(r => r.Stage == "kernel").Aggregate(0UL, (sum, r) => sum + read(r.Counter));
}
