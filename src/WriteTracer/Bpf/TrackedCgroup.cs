using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>Mirror of <c>struct tracked_cgroup</c>: the tracked_cgroups map's value, keyed by cgroup v2 id.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TrackedCgroup
{
    /// <summary>What <see cref="TrackedProcess.RootPid"/> holds for the cgroup's processes.</summary>
    public uint Registration;
    /// <summary><see cref="TrackedProcess.UnprivilegedFlag"/> when registered by a non-administrator.</summary>
    public uint Flags;
    /// <summary>With <see cref="TrackedProcess.UnprivilegedFlag"/>: the registering caller's uid; only its processes join.</summary>
    public uint Uid;
}
