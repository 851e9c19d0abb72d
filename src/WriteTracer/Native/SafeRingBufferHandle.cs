using Microsoft.Win32.SafeHandles;

namespace WriteTracer.Native;

/// <summary>A libbpf <c>struct ring_buffer*</c> (the consumer side of a BPF ring buffer map).</summary>
internal sealed class SafeRingBufferHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeRingBufferHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        Interop.Libbpf.RingBufferFree(handle);
        return true;
    }
}
