using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using WriteTracer.Bpf;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// An fd of our own on a BPF map, opened by the map's kernel-wide id, so a map another
/// process created (the tracer's, seen from a test) can be read back; closed on release.
/// </summary>
internal sealed unsafe partial class SafeBpfMapHandle : SafeHandleMinusOneIsInvalid
{
    private const string Libbpf = "libbpf.so.1", Libc = "libc";

    public SafeBpfMapHandle() : base(ownsHandle: true) { }

    private SafeBpfMapHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);

    public int Fd => (int)handle;

    public static SafeBpfMapHandle OpenById(uint id)
    {
        var fd = MapGetFdById(id);
        return fd >= 0 ? new SafeBpfMapHandle(fd) : throw BpfException.From($"opening BPF map {id}", -fd);
    }

    /// <summary>The map's name as the kernel knows it (at most 15 bytes).</summary>
    public string Name() => Info().Name;

    public uint MaxEntries() => Info().MaxEntries;

    private BpfMapInfo Info()
    {
        var info = default(BpfMapInfo);
        var length = (uint)sizeof(BpfMapInfo);
        var result = ObjectGetInfoByFd(this, &info, &length);
        return result == 0 ? info : throw BpfException.From("reading BPF map info", -result);
    }

    protected override bool ReleaseHandle() => Close((int)handle) == 0;

    /// <summary>A new fd for a map of any process, by its kernel-wide id (needs CAP_SYS_ADMIN).</summary>
    [LibraryImport(Libbpf, EntryPoint = "bpf_map_get_fd_by_id")]
    private static partial int MapGetFdById(uint id);

    [LibraryImport(Libbpf, EntryPoint = "bpf_obj_get_info_by_fd")]
    private static partial int ObjectGetInfoByFd(SafeBpfMapHandle fd, void* info, uint* infoLength);

    [LibraryImport(Libc, EntryPoint = "close")]
    private static partial int Close(int fd);
}
