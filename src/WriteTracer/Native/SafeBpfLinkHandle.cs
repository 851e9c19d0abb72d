using Microsoft.Win32.SafeHandles;

namespace WriteTracer.Native;

/// <summary>A libbpf <c>struct bpf_link*</c>; destroying it detaches the program.</summary>
internal sealed class SafeBpfLinkHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeBpfLinkHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle() => Interop.Libbpf.LinkDestroy(handle) == 0;
}
