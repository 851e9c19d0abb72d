using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>Mirror of <c>struct wt_config</c>: the program's read-only configuration.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BpfConfig
{
    public uint TracerTgid;
    public uint CaptureBytes;
    public uint FilterFds;
    public FileIdentityReads ResolveFds;
    public ulong WakeupBytes;
    public uint Syscalls;
    public uint FailPending;
    /// <summary>Nonzero: exec and exit records in the events ring (<c>--lifecycle</c>).</summary>
    public uint Lifecycle;
    /// <summary>Tests only: nonzero makes every tracking-change record fail to reserve.</summary>
    public uint FailChanges;
}
