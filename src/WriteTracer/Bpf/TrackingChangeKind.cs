namespace WriteTracer.Bpf;

/// <summary><c>tracking_change.kind</c> (<c>WT_CHANGE_*</c>).</summary>
internal enum TrackingChangeKind : uint
{
    /// <summary>The kernel tracked a process: a fork of a tracked one, or a join of a registered cgroup.</summary>
    Tracked = 0,
    /// <summary>The kernel untracked a process: its exit, a privilege-gaining exec, a move out of a cgroup.</summary>
    Untracked = 1,
    ThreadStart = 2,
    /// <summary>A thread that was not its process's last exited (the last one's exit is <see cref="Untracked"/>).</summary>
    ThreadExit = 3,
    /// <summary>A registered cgroup was removed; <see cref="TrackingChange.RootPid"/> is its registration.</summary>
    CgroupRemoved = 4,
}
