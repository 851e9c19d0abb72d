using System.Runtime.InteropServices;

namespace WriteTracer.Native;

/// <summary>A region mapped with mmap(2); unmapped on release.</summary>
internal sealed unsafe class SafeMemoryMapHandle : SafeHandle
{
    private readonly nuint _length;

    private SafeMemoryMapHandle(void* address, nuint length) : base(invalidHandleValue: -1, ownsHandle: true)
    {
        _length = length;
        SetHandle((nint)address);
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>The start of the mapping; valid while this handle is.</summary>
    public byte* Address => (byte*)handle;

    /// <summary>Maps length bytes of fd at offset (MAP_SHARED); operation names what failed in the exception.</summary>
    public static SafeMemoryMapHandle Map(int fd, nuint length, long offset, bool writable, string operation)
    {
        var protection = Interop.Libc.PROT_READ | (writable ? Interop.Libc.PROT_WRITE : 0);
        var address = Interop.Libc.MMap(null, length, protection, Interop.Libc.MAP_SHARED, fd, (nint)offset);
        if (address == Interop.Libc.MAP_FAILED)
        {
            throw Bpf.BpfException.From(operation, Marshal.GetLastPInvokeError());
        }
        return new SafeMemoryMapHandle(address, length);
    }

    protected override bool ReleaseHandle() => Interop.Libc.MUnmap((void*)handle, _length) == 0;
}
