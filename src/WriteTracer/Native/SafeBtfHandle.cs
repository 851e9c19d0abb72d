using Microsoft.Win32.SafeHandles;

namespace WriteTracer.Native;

/// <summary>A libbpf <c>struct btf*</c>, such as the kernel's own BTF (<c>btf__load_vmlinux_btf</c>).</summary>
internal sealed class SafeBtfHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeBtfHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        Interop.Libbpf.BtfFree(handle);
        return true;
    }
}
