using System.Runtime.InteropServices;

namespace WriteTracer.Native;

/// <summary>
/// The leading fields of libbpf's <c>struct bpf_prog_load_opts</c>, up to the attach
/// target: libbpf reads no further than <see cref="Size"/> says.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BpfProgramLoadOptions
{
    public nuint Size;
    public int Attempts;
    public uint ExpectedAttachType;
    public uint ProgramBtfFd;
    public uint ProgramFlags;
    public uint ProgramIfIndex;
    public uint KernelVersion;
    public uint AttachBtfId;
    public uint AttachProgramFd;
    public uint AttachBtfObjectFd;
}
