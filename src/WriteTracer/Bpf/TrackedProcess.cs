using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>Mirror of <c>struct tracked_process</c>: the tracked map's value, keyed by TGID.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TrackedProcess
{
    /// <summary>Registered by a non-administrator: untracked at a privilege-gaining exec (<c>WT_TRACK_UNPRIVILEGED</c>).</summary>
    public const uint UnprivilegedFlag = 0x1;
    /// <summary><see cref="RootPid"/> is a cgroup registration id (<c>WT_TRACK_CGROUP</c>).</summary>
    public const uint CgroupFlag = 0x2;

    public uint RootPid;
    public uint Flags;
}
