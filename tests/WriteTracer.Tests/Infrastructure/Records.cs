using System.Runtime.InteropServices;
using System.Text;
using WriteTracer.Bpf;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>Synthetic ring-buffer records: a <see cref="WriteEvent"/> header followed by the captured bytes.</summary>
internal static class Records
{
    /// <summary>2026-11-22T04:18:40.123456789Z, the time of the example event in docs/DESIGN.md ("Event"), in Unix nanoseconds.</summary>
    public static readonly long DesignExampleTime =
        (new DateTime(2026, 11, 22, 4, 18, 40, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks * 100 + 123_456_789;

    /// <summary>A header as the kernel fills it; captured defaults to the data that will follow it.</summary>
    public static WriteEvent Header(
        uint pid = 1234, uint tid = 1236, uint rootPid = 1200, string comm = "python3", int fd = 1,
        ulong count = 0, uint captured = 0, uint flags = 0, ulong timestampNs = 0,
        WriteSyscall syscall = WriteSyscall.Write, ushort iovcnt = 0, long offset = 0)
    {
        var header = new WriteEvent
        {
            TimestampNs = timestampNs,
            Count = count,
            Pid = pid,
            Tid = tid,
            RootPid = rootPid,
            Fd = fd,
            Captured = captured,
            Flags = flags,
            Syscall = syscall,
            Iovcnt = iovcnt,
            Offset = offset,
        };
        SetComm(ref header, Encoding.UTF8.GetBytes(comm));
        return header;
    }

    /// <summary>The call of the write family of this name (test data names them as the kernel does).</summary>
    public static WriteSyscall Syscall(string name) =>
        WriteSyscalls.TryParse(name, out var syscall) ? syscall : throw new ArgumentException($"no syscall '{name}'", nameof(name));

    /// <summary>Sets the comm bytes as the kernel does: NUL-padded, no terminator when all 16 are used.</summary>
    public static void SetComm(ref WriteEvent header, ReadOnlySpan<byte> comm)
    {
        if (comm.Length > WriteEvent.CommLength)
        {
            throw new ArgumentException($"a comm has at most {WriteEvent.CommLength} bytes", nameof(comm));
        }
        Span<byte> target = header.Comm;
        target.Clear();
        comm.CopyTo(target);
    }

    /// <summary>The header's bytes followed by data; the header's Captured is left as given.</summary>
    public static byte[] Record(WriteEvent header, ReadOnlySpan<byte> data)
    {
        var record = new byte[WriteEvent.Size + data.Length];
        MemoryMarshal.Write(record, in header);
        data.CopyTo(record.AsSpan(WriteEvent.Size));
        return record;
    }

    /// <summary>A record whose header says exactly the data that follows was captured.</summary>
    public static byte[] Write(ReadOnlySpan<byte> data, ulong? count = null, uint pid = 1234, uint tid = 1236, uint rootPid = 1200, ulong timestampNs = 0) =>
        Record(Header(pid, tid, rootPid, count: count ?? (ulong)data.Length, captured: (uint)data.Length, timestampNs: timestampNs), data);
}
