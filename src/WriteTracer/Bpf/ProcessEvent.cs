using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>
/// Mirror of <c>struct process_event</c>: a tracked process's exec or exit (<c>--lifecycle</c>),
/// in the events ring in order with its writes; an exec is followed by <see cref="Captured"/>
/// bytes of its argv (NUL-terminated strings).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProcessEvent
{
    public RecordKind Kind;
    public uint Flags;
    public ulong TimestampNs;
    public uint Pid;
    public uint Tid;
    public uint RootPid;
    /// <summary>Exit: the wait(2) status (code &lt;&lt; 8, or the signal with 0x80 when it dumped core).</summary>
    public int ExitStatus;
    public uint Captured;
    /// <summary>Exec: the size of the whole argv; more than <see cref="Captured"/> when capped.</summary>
    public uint ArgvSize;
    public WriteEvent.CommBuffer Comm;

    public static int Size => Unsafe.SizeOf<ProcessEvent>();
}
