using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>
/// Mirror of <c>struct process_event</c>: a tracked process's exec or exit (<c>--lifecycle</c>),
/// in the events ring in order with its writes; an exec is followed by <see cref="Captured"/>
/// bytes of its argv (NUL-terminated strings).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProcessEvent : IRingRecord
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

    /// <summary>Exec: the argv was unreadable, none of it is captured.</summary>
    public readonly bool ReadFailed => (Flags & WriteEvent.ReadFailedFlag) != 0;

    /// <summary><see cref="RootPid"/> is a cgroup registration's id: the event names the cgroup instead.</summary>
    public readonly bool CgroupRoot => (Flags & WriteEvent.CgroupRootFlag) != 0;

    /// <summary>Exec: the argv is longer than what was captured (--capture-bytes).</summary>
    public readonly bool Truncated => ArgvSize > Captured;

    /// <summary>Exit: killed by a signal (WIFSIGNALED), rather than exited with a code.</summary>
    public readonly bool Signaled => TerminatingSignal != 0;

    /// <summary>Exit: the code it exited with (WEXITSTATUS), when not <see cref="Signaled"/>.</summary>
    public readonly int ExitCode => (ExitStatus >> 8) & 0xff;

    /// <summary>Exit: the signal that killed it (WTERMSIG), 0 when it exited.</summary>
    public readonly int TerminatingSignal => ExitStatus & 0x7f;

    /// <summary>Exit: the signal dumped core (WCOREDUMP).</summary>
    public readonly bool CoreDumped => Signaled && (ExitStatus & 0x80) != 0;

    readonly uint IRingRecord.DataLength => Captured;

    /// <summary>Splits a raw record into its header and the captured argv (empty for an exit).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, out ProcessEvent header, out ReadOnlySpan<byte> argv) =>
        RingRecord.TryDecode(record, out header, out argv);
}
