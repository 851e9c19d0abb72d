using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>
/// Mirror of <c>struct tracking_change</c>: a change the kernel made to the tracked set or to
/// a tracked process's threads, read from the <c>changes</c> ring by the registry.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TrackingChange
{
    public ulong TimestampNs;
    public TrackingChangeKind Kind;
    public uint Pid;
    public uint Tid;
    /// <summary>A fork's parent (TGID); 0 for other changes.</summary>
    public uint ParentPid;
    public uint RootPid;
    public uint Flags;

    public static int Size => Unsafe.SizeOf<TrackingChange>();

    /// <summary>The change a record holds; false when it is too short to be one.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, out TrackingChange change)
    {
        change = default;
        return record.Length >= Size && MemoryMarshal.TryRead(record, out change);
    }
}
