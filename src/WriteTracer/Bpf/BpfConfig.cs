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
}
