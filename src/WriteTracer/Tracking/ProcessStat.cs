namespace WriteTracer.Tracking;

/// <summary>The fields of /proc/PID/stat the tracker needs.</summary>
/// <param name="StartTime">Field 22: clock ticks after boot; with the pid, a process's identity.</param>
/// <param name="Threads">Field 20: the process's threads.</param>
/// <param name="Flags">Field 9: the main thread's PF_* flags.</param>
internal readonly record struct ProcessStat(int Pid, string Comm, char State, int ParentPid, ulong StartTime, int Threads, uint Flags)
{
    /// <summary>PF_EXITING: set as a thread starts to exit, before the kernel's exit hooks run.</summary>
    public const uint ExitingFlag = 0x4;

    public bool IsZombie => State is 'Z' or 'X';

    /// <summary>The main thread is on its way out: the whole process when it is the only thread.</summary>
    public bool IsExiting => (Flags & ExitingFlag) != 0;

    /// <summary>Parses the text of /proc/PID/stat; the comm may itself contain spaces and parentheses.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ProcessStat stat)
    {
        stat = default;
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        if (open <= 0 || close < open || !int.TryParse(text[..open].Trim(), out var pid))
        {
            return false;
        }
        var comm = text[(open + 1)..close].ToString();
        // Fields after the comm start at field 3 (state); flags are field 9, num_threads 20, starttime 22.
        Span<Range> fields = stackalloc Range[21];
        var rest = text[(close + 1)..].Trim();
        if (rest.Split(fields, ' ', StringSplitOptions.RemoveEmptyEntries) < 20)
        {
            return false;
        }
        var state = rest[fields[0]];
        if (state.Length != 1
            || !int.TryParse(rest[fields[1]], out var parent)
            || !uint.TryParse(rest[fields[6]], out var flags)
            || !int.TryParse(rest[fields[17]], out var threads)
            || !ulong.TryParse(rest[fields[19]], out var startTime))
        {
            return false;
        }
        stat = new ProcessStat(pid, comm, state[0], parent, startTime, threads, flags);
        return true;
    }
}
