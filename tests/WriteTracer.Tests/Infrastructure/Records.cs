using System.Runtime.InteropServices;
using System.Text;
using WriteTracer.Bpf;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>Synthetic ring-buffer records: a <see cref="WriteEvent"/> header followed by the captured bytes, or a <see cref="ProcessEvent"/> and its argv.</summary>
internal static class Records
{
    /// <summary>2026-11-22T04:18:40.123456789Z, the time of the example event in docs/DESIGN.md ("Event"), in Unix nanoseconds.</summary>
    public static readonly long DesignExampleTime =
        (new DateTime(2026, 11, 22, 4, 18, 40, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks * 100 + 123_456_789;

    /// <summary>--capture-bytes values that bound a formatter's longest line: none, tiny, odd, the default, a page, the largest.</summary>
    public static TheoryData<int> CaptureSizes => [0, 1, 2, 3, 127, 256, 4096, WriteEvent.MaxCapture];

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
    public static void SetComm(ref WriteEvent header, ReadOnlySpan<byte> comm) => SetComm(ref header.Comm, comm);

    public static void SetComm(ref WriteEvent.CommBuffer buffer, ReadOnlySpan<byte> comm)
    {
        if (comm.Length > WriteEvent.CommLength)
        {
            throw new ArgumentException($"a comm has at most {WriteEvent.CommLength} bytes", nameof(comm));
        }
        Span<byte> target = buffer;
        target.Clear();
        comm.CopyTo(target);
    }

    /// <summary>An exec's header as the kernel fills it; argvSize defaults to what is captured (not capped).</summary>
    public static ProcessEvent Exec(uint captured, uint? argvSize = null, uint pid = 1234, uint rootPid = 1200, string comm = "ls",
        uint flags = 0, ulong timestampNs = 0) =>
        Process(RecordKind.Exec, pid, pid, rootPid, comm, flags, timestampNs, captured: captured, argvSize: argvSize ?? captured);

    /// <summary>An exit's header: status is the wait(2) status (code &lt;&lt; 8, or the signal | 0x80 for a core dump).</summary>
    public static ProcessEvent Exit(int status, uint pid = 1234, uint tid = 1234, uint rootPid = 1200, string comm = "ls",
        uint flags = 0, ulong timestampNs = 0) =>
        Process(RecordKind.Exit, pid, tid, rootPid, comm, flags, timestampNs, exitStatus: status);

    private static ProcessEvent Process(RecordKind kind, uint pid, uint tid, uint rootPid, string comm, uint flags, ulong timestampNs,
        int exitStatus = 0, uint captured = 0, uint argvSize = 0)
    {
        var header = new ProcessEvent
        {
            Kind = kind,
            Flags = flags,
            TimestampNs = timestampNs,
            Pid = pid,
            Tid = tid,
            RootPid = rootPid,
            ExitStatus = exitStatus,
            Captured = captured,
            ArgvSize = argvSize,
        };
        SetComm(ref header.Comm, Encoding.UTF8.GetBytes(comm));
        return header;
    }

    /// <summary>The argv bytes of these arguments as the kernel holds them: each NUL-terminated.</summary>
    public static byte[] ArgvBytes(params string[] args) => [.. args.SelectMany(a => Encoding.UTF8.GetBytes(a).Append((byte)0))];

    /// <summary>A process record: the header's bytes followed by argv; the header's Captured is left as given.</summary>
    public static byte[] Record(ProcessEvent header, ReadOnlySpan<byte> argv = default)
    {
        var record = new byte[ProcessEvent.Size + argv.Length];
        MemoryMarshal.Write(record, in header);
        argv.CopyTo(record.AsSpan(ProcessEvent.Size));
        return record;
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
