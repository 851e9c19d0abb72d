using Microsoft.Win32.SafeHandles;

namespace WriteTracer.Native;

/// <summary>
/// An fd of our own on a BPF map, opened by the map's kernel-wide id, so a map another
/// process created (the tracer's, seen from a test) can be read back; closed on release.
/// </summary>
internal sealed unsafe class SafeBpfMapHandle : SafeHandleMinusOneIsInvalid
{
    public SafeBpfMapHandle() : base(ownsHandle: true) { }

    private SafeBpfMapHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);

    public int Fd => (int)handle;

    public static SafeBpfMapHandle OpenById(uint id)
    {
        var fd = Interop.Libbpf.MapGetFdById(id);
        return fd >= 0 ? new SafeBpfMapHandle(fd) : throw Bpf.BpfException.From($"opening BPF map {id}", -fd);
    }

    /// <summary>The map's name as the kernel knows it (at most 15 bytes).</summary>
    public string Name() => Info().Name;

    public uint MaxEntries() => Info().MaxEntries;

    private BpfMapInfo Info()
    {
        var info = default(BpfMapInfo);
        var length = (uint)sizeof(BpfMapInfo);
        var result = Interop.Libbpf.ObjectGetInfoByFd(this, &info, &length);
        return result == 0 ? info : throw Bpf.BpfException.From("reading BPF map info", -result);
    }

    protected override bool ReleaseHandle() => Interop.Libc.Close((int)handle) == 0;
}
