using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>
/// Mirror of <c>struct write_event</c> in bpf/write_tracer.h: the fixed part of a
/// ring-buffer record, followed by <see cref="Captured"/> bytes of the written buffer.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WriteEvent : IRingRecord
{
    public const int CommLength = 16;
    public const int MaxCapture = 16384;
    public const uint ReadFailedFlag = 0x1;
    public const uint HasResultFlag = 0x2;
    public const uint CgroupRootFlag = 0x4;

    /// <summary><see cref="RecordKind.Write"/>: what tells a write from the other records of the events ring.</summary>
    public RecordKind Kind;
    public uint Flags;
    public ulong TimestampNs;
    public ulong Count;
    /// <summary>write(2)'s return (bytes written or -errno), when <see cref="HasResult"/>.</summary>
    public long Result;
    /// <summary>The file position of pwrite64, pwritev and pwritev2 (-1: the current one).</summary>
    public long Offset;
    public uint Pid;
    public uint Tid;
    public uint RootPid;
    public int Fd;
    public uint Captured;
    public WriteSyscall Syscall;
    /// <summary>The number of buffers of writev, pwritev and pwritev2.</summary>
    public ushort Iovcnt;
    public CommBuffer Comm;
    /// <summary>The file behind <see cref="Fd"/>, with <c>--resolve-fds</c>.</summary>
    public FileIdentity File;

    public static int Size => Unsafe.SizeOf<WriteEvent>();

    public readonly bool ReadFailed => (Flags & ReadFailedFlag) != 0;

    /// <summary><see cref="RootPid"/> is a cgroup registration's id: the event names the cgroup instead.</summary>
    public readonly bool CgroupRoot => (Flags & CgroupRootFlag) != 0;

    /// <summary>Captured at syscall exit (<c>--capture-at exit</c>), so the result is known.</summary>
    public readonly bool HasResult => (Flags & HasResultFlag) != 0;

    /// <summary>A thread's name as the kernel holds it (task->comm): NUL-terminated unless all 16 bytes are used.</summary>
    [InlineArray(CommLength)]
    public struct CommBuffer
    {
        private byte _first;

        /// <summary>The name: comm up to its first NUL.</summary>
        public static ReadOnlySpan<byte> TextOf(ReadOnlySpan<byte> comm)
        {
            var end = comm.IndexOf((byte)0);
            return end < 0 ? comm : comm[..end];
        }
    }

    readonly uint IRingRecord.DataLength => Captured;

    /// <summary>Splits a raw record into its header and the captured bytes.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, out WriteEvent header, out ReadOnlySpan<byte> data) =>
        RingRecord.TryDecode(record, out header, out data);
}
