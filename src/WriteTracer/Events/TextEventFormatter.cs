using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// Formats one event as one line for a terminal (--format text), modelled on
/// <c>strace -tt</c>:
/// <code>05:18:40.123456 python3[1234/1236] fd=1 6 "hello\n"</code>
/// local time with microseconds, comm[pid/tid], " root=R" when the registered process R
/// is another one (" cg=/PATH" for a process traced as a member of a registered cgroup), the syscall when it is not
/// write (writev, pwrite64, …), the fd (followed by its path in angle brackets with --resolve-fds, as
/// <c>strace -y</c> shows it: fd=1&lt;/var/log/app.log&gt;), the size asked to write, the captured bytes C-escaped in quotes
/// (<see cref="Utf8Writer.CEscaped"/>), then "..." when the size exceeds what was
/// captured, " iov=N" with the number of buffers of the vector calls, " off=N" with the
/// file position of the positioned ones (-1: the current one), " &lt;capture failed&gt;" when the kernel could not read the buffer, and
/// " ret=N" with write(2)'s result when known (--capture-at exit). Every byte that is
/// not plainly visible is escaped, so a line is one line and shows the bytes exactly.
/// </summary>
internal sealed class TextEventFormatter : IEventFormatter
{
    private readonly TimestampFormatter _timestamps;
    private readonly EscapedComm _comm = new(static (ref Utf8Writer w, scoped ReadOnlySpan<byte> comm) => w.CEscaped(comm));

    /// <param name="zone">Time zone of the timestamps; the machine's local one when null.</param>
    public TextEventFormatter(TimeZoneInfo? zone = null) => _timestamps = TimestampFormatter.LocalTimeOfDay(zone);

    /// <summary>The longest line (newline included) an event with this much captured data can produce.</summary>
    public static int MaxLength(int captureBytes, bool withFdPath = false) =>
        256 + Utf8Writer.MaxCEscapedBytesPerByte *
        (captureBytes + WriteEvent.CommLength + Tracking.CgroupNames.MaxNameBytes + (withFdPath ? FdPathResolver.MaxPathBytes : 0));

    int IEventFormatter.MaxLength(int captureBytes, bool withFdPath) => MaxLength(captureBytes, withFdPath);

    public int TerminatorLength => 1;

    public int Format(in WriteEvent e, ReadOnlySpan<byte> data, long unixNanoseconds, Span<byte> destination,
        ReadOnlySpan<byte> fdPath = default, ReadOnlySpan<byte> cgroup = default)
    {
        var w = new Utf8Writer(destination);
        _timestamps.Write(unixNanoseconds, ref w);
        w.Byte((byte)' ');
        w.Raw(_comm.Of(e));
        w.Byte((byte)'[');
        w.Number(e.Pid);
        w.Byte((byte)'/');
        w.Number(e.Tid);
        w.Byte((byte)']');
        if (e.CgroupRoot)
        {
            w.Raw(" cg="u8);
            w.CEscaped(cgroup);
        }
        else if (e.RootPid != e.Pid)
        {
            w.Raw(" root="u8);
            w.Number(e.RootPid);
        }
        if (e.Syscall != WriteSyscall.Write)
        {
            w.Byte((byte)' ');
            w.Raw(e.Syscall.Utf8Name());
        }
        w.Raw(" fd="u8);
        w.Number(e.Fd);
        if (!fdPath.IsEmpty)
        {
            w.Byte((byte)'<');
            w.CEscaped(fdPath);
            w.Byte((byte)'>');
        }
        w.Byte((byte)' ');
        w.Number(e.Count);
        w.Raw(" \""u8);
        w.CEscaped(data);
        w.Byte((byte)'"');
        if (e.Count > (ulong)data.Length)
        {
            w.Raw("..."u8);
        }
        if (e.Syscall.IsVector())
        {
            w.Raw(" iov="u8);
            w.Number(e.Iovcnt);
        }
        if (e.Syscall.IsPositioned())
        {
            w.Raw(" off="u8);
            w.Number(e.Offset);
        }
        if (e.ReadFailed)
        {
            w.Raw(" <capture failed>"u8);
        }
        if (e.HasResult)
        {
            w.Raw(" ret="u8);
            w.Number(e.Result);
        }
        var length = w.Position;
        w.Byte((byte)'\n');
        return length;
    }
}
