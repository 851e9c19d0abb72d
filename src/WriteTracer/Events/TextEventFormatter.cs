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
/// With --lifecycle, an exec and an exit are lines of their own after the same prefix, as
/// strace shows them:
/// <code>05:18:40.120001 ls[1234/1234] execve ["ls", "-l"]
/// 05:18:40.123456 ls[1234/1234] +++ exited with 3 +++
/// 05:18:40.123456 sh[1240/1240] root=1234 +++ killed by SIGSEGV (core dumped) +++</code>
/// </summary>
internal sealed class TextEventFormatter : IEventFormatter, IProcessEventFormatter
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
        WriteOrigin(ref w, unixNanoseconds, e.Pid, e.Tid, e.CgroupRoot, e.RootPid, cgroup, e.Comm);
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

    /// <summary>
    /// An exec: " execve [" and the arguments C-escaped in quotes, comma-separated, then "]"; a
    /// capped argv ends with "..." after a cut argument (<c>"ver"...]</c>) or as one more
    /// element (<c>"-l", ...]</c>), strace's marks; " &lt;capture failed&gt;" when unreadable. An
    /// exit: " +++ exited with N +++" or " +++ killed by SIGNAME [(core dumped)] +++".
    /// </summary>
    public int Format(in ProcessEvent e, ReadOnlySpan<byte> argv, long unixNanoseconds, Span<byte> destination,
        ReadOnlySpan<byte> cgroup = default)
    {
        var w = new Utf8Writer(destination);
        WriteOrigin(ref w, unixNanoseconds, e.Pid, e.Tid, e.CgroupRoot, e.RootPid, cgroup, e.Comm);
        if (e.Kind == RecordKind.Exec)
        {
            WriteArgv(ref w, argv, e.Truncated);
            if (e.ReadFailed)
            {
                w.Raw(" <capture failed>"u8);
            }
        }
        else if (e.Signaled)
        {
            w.Raw(" +++ killed by "u8);
            SignalNames.Write(e.TerminatingSignal, ref w);
            w.Raw(e.CoreDumped ? " (core dumped) +++"u8 : " +++"u8);
        }
        else
        {
            w.Raw(" +++ exited with "u8);
            w.Number(e.ExitCode);
            w.Raw(" +++"u8);
        }
        var length = w.Position;
        w.Byte((byte)'\n');
        return length;
    }

    private static void WriteArgv(ref Utf8Writer w, ReadOnlySpan<byte> argv, bool truncated)
    {
        var arguments = new Argv(argv);
        w.Raw(" execve ["u8);
        var first = true;
        foreach (var arg in arguments)
        {
            w.Raw(first ? "\""u8 : ", \""u8);
            first = false;
            w.CEscaped(arg);
            w.Byte((byte)'"');
        }
        if (truncated)
        {
            w.Raw(arguments.EndsInsideAnArgument || first ? "..."u8 : ", ..."u8);
        }
        w.Byte((byte)']');
    }

    /// <summary>What every line starts with: the time, comm[pid/tid], then " cg=/PATH", or " root=R" when R is another process.</summary>
    private void WriteOrigin(ref Utf8Writer w, long unixNanoseconds, uint pid, uint tid, bool cgroupRoot, uint rootPid,
        ReadOnlySpan<byte> cgroup, in WriteEvent.CommBuffer comm)
    {
        _timestamps.Write(unixNanoseconds, ref w);
        w.Byte((byte)' ');
        w.Raw(_comm.Of(comm));
        w.Byte((byte)'[');
        w.Number(pid);
        w.Byte((byte)'/');
        w.Number(tid);
        w.Byte((byte)']');
        if (cgroupRoot)
        {
            w.Raw(" cg="u8);
            w.CEscaped(cgroup);
        }
        else if (rootPid != pid)
        {
            w.Raw(" root="u8);
            w.Number(rootPid);
        }
    }
}
