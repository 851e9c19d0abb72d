using System.Buffers.Text;
using System.Text.Unicode;
using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// Formats one event as one JSON line (docs/DESIGN.md, "Event"). The captured bytes stay
/// recoverable exactly: "data" when they are valid UTF-8, "data_b64" otherwise; an exec's
/// argv likewise, "argv" or "argv_b64" (every argument base64-encoded).
/// </summary>
/// <param name="nameSyscalls">More than write(2) is traced: every event names its "syscall".</param>
internal sealed class JsonEventFormatter(bool nameSyscalls = false) : IEventFormatter, IProcessEventFormatter
{
    private readonly TimestampFormatter _timestamps = new();
    private readonly EscapedComm _comm = new(static (ref Utf8Writer w, scoped ReadOnlySpan<byte> comm) => w.JsonEscapedLenient(comm));

    /// <summary>The longest line (newline included) an event with this much captured data, and maybe an fd_path, can produce.</summary>
    public static int MaxLength(int captureBytes, bool withFdPath = false) =>
        512 + 16 + 6 * Tracking.CgroupNames.MaxNameBytes + Math.Max(captureBytes * 6, Base64.GetMaxEncodedToUtf8Length(captureBytes))
        + (withFdPath ? 16 + 6 * FdPathResolver.MaxPathBytes : 0);

    int IEventFormatter.MaxLength(int captureBytes, bool withFdPath) => MaxLength(captureBytes, withFdPath);

    public int TerminatorLength => 1;

    public int Format(in WriteEvent e, ReadOnlySpan<byte> data, long unixNanoseconds, Span<byte> destination,
        ReadOnlySpan<byte> fdPath = default, ReadOnlySpan<byte> cgroup = default)
    {
        var w = new Utf8Writer(destination);
        w.Byte((byte)'{');
        WriteOrigin(ref w, unixNanoseconds, e.Pid, e.Tid, e.CgroupRoot, e.RootPid, cgroup, e.Comm);
        if (nameSyscalls)
        {
            w.Raw(",\"syscall\":\""u8);
            w.Raw(e.Syscall.Utf8Name());
            w.Byte((byte)'"');
        }
        w.Raw(",\"fd\":"u8);
        w.Number(e.Fd);
        if (!fdPath.IsEmpty)
        {
            w.Raw(",\"fd_path\":\""u8);
            w.JsonEscapedLenient(fdPath);
            w.Byte((byte)'"');
        }
        w.Raw(",\"count\":"u8);
        w.Number(e.Count);
        if (e.Syscall.IsVector())
        {
            w.Raw(",\"iovcnt\":"u8);
            w.Number(e.Iovcnt);
        }
        if (e.Syscall.IsPositioned())
        {
            w.Raw(",\"offset\":"u8);
            w.Number(e.Offset);
        }
        if (e.HasResult)
        {
            w.Raw(",\"ret\":"u8);
            w.Number(e.Result);
        }
        if (Utf8.IsValid(data))
        {
            w.Raw(",\"data\":\""u8);
            w.JsonEscaped(data);
        }
        else
        {
            w.Raw(",\"data_b64\":\""u8);
            w.Base64(data);
        }
        w.Byte((byte)'"');
        if (e.Count > (ulong)data.Length)
        {
            w.Raw(",\"truncated\":true"u8);
        }
        if (e.ReadFailed)
        {
            w.Raw(",\"capture_failed\":true"u8);
        }
        w.Byte((byte)'}');
        var length = w.Position;
        w.Byte((byte)'\n');
        return length;
    }

    /// <summary>
    /// <c>{"event":"exec",…,"argv":["ls","-l"]}</c> (with "truncated" when capped, "capture_failed"
    /// when unreadable) or <c>{"event":"exit",…,"code":N}</c> / <c>"signal":N</c> (and "core_dumped"),
    /// "…" being what every event carries: time, pid, tid, root_pid or cgroup, comm.
    /// </summary>
    public int Format(in ProcessEvent e, ReadOnlySpan<byte> argv, long unixNanoseconds, Span<byte> destination,
        ReadOnlySpan<byte> cgroup = default)
    {
        var w = new Utf8Writer(destination);
        w.Raw(e.Kind == RecordKind.Exec ? "{\"event\":\"exec\","u8 : "{\"event\":\"exit\","u8);
        WriteOrigin(ref w, unixNanoseconds, e.Pid, e.Tid, e.CgroupRoot, e.RootPid, cgroup, e.Comm);
        if (e.Kind == RecordKind.Exec)
        {
            WriteArgv(ref w, argv);
            if (e.Truncated)
            {
                w.Raw(",\"truncated\":true"u8);
            }
            if (e.ReadFailed)
            {
                w.Raw(",\"capture_failed\":true"u8);
            }
        }
        else if (e.Signaled)
        {
            w.Raw(",\"signal\":"u8);
            w.Number(e.TerminatingSignal);
            if (e.CoreDumped)
            {
                w.Raw(",\"core_dumped\":true"u8);
            }
        }
        else
        {
            w.Raw(",\"code\":"u8);
            w.Number(e.ExitCode);
        }
        w.Byte((byte)'}');
        var length = w.Position;
        w.Byte((byte)'\n');
        return length;
    }

    /// <summary>"argv":[…] when every argument is valid UTF-8, else "argv_b64":[…], each argument base64-encoded.</summary>
    private static void WriteArgv(ref Utf8Writer w, ReadOnlySpan<byte> argv)
    {
        var text = Utf8.IsValid(argv);
        w.Raw(text ? ",\"argv\":["u8 : ",\"argv_b64\":["u8);
        var first = true;
        foreach (var arg in new Argv(argv))
        {
            w.Raw(first ? "\""u8 : ",\""u8);
            first = false;
            if (text)
            {
                w.JsonEscaped(arg);
            }
            else
            {
                w.Base64(arg);
            }
            w.Byte((byte)'"');
        }
        w.Byte((byte)']');
    }

    /// <summary>Where an event comes from, the members every event starts with: "time","pid","tid","root_pid" (or "cgroup"),"comm".</summary>
    private void WriteOrigin(ref Utf8Writer w, long unixNanoseconds, uint pid, uint tid, bool cgroupRoot, uint rootPid,
        ReadOnlySpan<byte> cgroup, in WriteEvent.CommBuffer comm)
    {
        w.Raw("\"time\":\""u8);
        _timestamps.Write(unixNanoseconds, ref w);
        w.Raw("\",\"pid\":"u8);
        w.Number(pid);
        w.Raw(",\"tid\":"u8);
        w.Number(tid);
        if (cgroupRoot)
        {
            w.Raw(",\"cgroup\":\""u8);
            w.JsonEscapedLenient(cgroup);
            w.Byte((byte)'"');
        }
        else
        {
            w.Raw(",\"root_pid\":"u8);
            w.Number(rootPid);
        }
        w.Raw(",\"comm\":\""u8);
        w.Raw(_comm.Of(comm));
        w.Byte((byte)'"');
    }
}
