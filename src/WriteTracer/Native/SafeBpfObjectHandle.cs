using Microsoft.Win32.SafeHandles;

namespace WriteTracer.Native;

/// <summary>A libbpf <c>struct bpf_object*</c>; closing it unloads programs and maps.</summary>
internal sealed class SafeBpfObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeBpfObjectHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        Interop.Libbpf.ObjectClose(handle);
        return true;
    }
}
