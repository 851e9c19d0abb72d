using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>Mirror of <c>struct tracked_process</c>: the tracked map's value, keyed by TGID.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TrackedProcess
{
    public uint RootPid;
    public uint Reserved;
}
