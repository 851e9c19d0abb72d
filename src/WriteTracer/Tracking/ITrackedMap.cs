namespace WriteTracer.Tracking;

/// <summary>
/// The kernel's set of tracked processes (TGID → root: a registered pid, or a cgroup
/// registration's id, see <see cref="CgroupNames"/>). An interface so the registries'
/// logic is testable without BPF.
/// </summary>
internal interface ITrackedMap
{
    /// <summary>
    /// Adds pid unless present. unprivileged: the root was registered by a non-administrator,
    /// so the kernel untracks the process at a privilege-gaining exec (the design, "tracked_process.flags").
    /// </summary>
    TrackedMapResult TryAdd(int pid, int rootPid, bool unprivileged);

    /// <summary>Removes pid; false when it was not present.</summary>
    bool Remove(int pid);

    bool TryGetRoot(int pid, out int rootPid);

    /// <summary>A snapshot of every entry.</summary>
    IReadOnlyList<(int Pid, int RootPid)> Snapshot();
}

internal enum TrackedMapResult
{
    Added,
    AlreadyPresent,
    Full,
}
