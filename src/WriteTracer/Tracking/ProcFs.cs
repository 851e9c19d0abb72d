namespace WriteTracer.Tracking;

/// <summary>
/// The process tree as /proc shows it. The root directory is a parameter so tests can
/// run it over fixture trees.
/// </summary>
internal sealed class ProcFs(string root = "/proc")
{
    /// <summary>PID_MAX_LIMIT on 64-bit kernels: no process id is larger.</summary>
    public const int PidMaxLimit = 4_194_304;

    public string Root => root;

    /// <summary>False when the process does not exist (or vanished while being read).</summary>
    public bool TryReadStat(int pid, out ProcessStat stat)
    {
        stat = default;
        var text = TryReadText(Path.Combine(root, Number(pid), "stat"));
        return text is not null && ProcessStat.TryParse(text, out stat);
    }

    /// <summary>A live process: present and not a zombie.</summary>
    public bool IsAlive(int pid, out ProcessStat stat) => TryReadStat(pid, out stat) && !stat.IsZombie;

    /// <summary>
    /// The thread group (process) a task id belongs to, from the Tgid line of its status
    /// file: /proc also answers for a thread's id, which is no process of its own.
    /// False when the status cannot be read.
    /// </summary>
    public bool TryReadThreadGroup(int pid, out int tgid)
    {
        tgid = 0;
        var text = TryReadText(Path.Combine(root, Number(pid), "status"));
        if (text is null)
        {
            return false;
        }
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("Tgid:", StringComparison.Ordinal))
            {
                return int.TryParse(line["Tgid:".Length..].Trim(), out tgid);
            }
        }
        return false;
    }

    /// <summary>False when the process does not exist (or vanished while being read).</summary>
    public bool TryReadStatus(int pid, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProcessStatus? status)
    {
        status = null;
        var text = TryReadText(Path.Combine(root, Number(pid), "status"));
        return text is not null && ProcessStatus.TryParse(text, out status);
    }

    /// <summary>
    /// The owner of /proc/PID: the process's effective uid while it is dumpable, root once
    /// it is not (after a setuid or file-capability exec, or prctl(PR_SET_DUMPABLE, 0)),
    /// which is how the kernel shows dumpability. False when the process is gone.
    /// </summary>
    public bool TryReadOwner(int pid, out int uid)
    {
        uid = -1;
        if (Native.Interop.Libc.StatX(Native.Interop.Libc.AT_FDCWD, Path.Combine(root, Number(pid)), 0, Native.Interop.Libc.STATX_UID, out var stat) != 0)
        {
            return false;
        }
        uid = (int)stat.Uid;
        return true;
    }

    /// <summary>The process's pid namespace ("pid:[INODE]"); null when it is gone or the link is not readable (another user's without CAP_SYS_PTRACE).</summary>
    public string? PidNamespace(int pid)
    {
        try
        {
            return new FileInfo(Path.Combine(root, Number(pid), "ns", "pid")).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// A process holding the socket with this inode (socket:[INODE] among its fds); null when
    /// none is found, or the holder's fds are not readable (another user's without CAP_SYS_PTRACE).
    /// </summary>
    public int? FindSocketHolder(ulong inode)
    {
        var target = $"socket:[{inode}]";
        foreach (var pid in Processes())
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(root, Number(pid), "fd")))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                    {
                        return pid;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }
        return null;
    }

    /// <summary>Every process id /proc lists.</summary>
    public IReadOnlyList<int> Processes() => NumericEntries(root);

    /// <summary>The largest process id the kernel hands out (sys/kernel/pid_max); the kernel's limit when unreadable.</summary>
    public int PidMax() =>
        int.TryParse(TryReadText(Path.Combine(root, "sys", "kernel", "pid_max")), out var max) && max > 0 ? max : PidMaxLimit;

    public IReadOnlyList<int> Threads(int pid) => NumericEntries(Path.Combine(root, Number(pid), "task"));

    public int ThreadCount(int pid) => Threads(pid).Count;

    /// <summary>
    /// Direct children of every thread of pid, from task/TID/children; where the
    /// kernel lacks that file (CONFIG_PROC_CHILDREN=n), by scanning every process's parent.
    /// </summary>
    public IReadOnlyList<int> Children(int pid)
    {
        var children = new List<int>();
        var anyChildrenFile = false;
        foreach (var tid in Threads(pid))
        {
            var text = TryReadText(Path.Combine(root, Number(pid), "task", Number(tid), "children"));
            if (text is null)
            {
                continue;
            }
            anyChildrenFile = true;
            foreach (var range in text.AsSpan().Split(' '))
            {
                if (int.TryParse(text.AsSpan(range).Trim(), out var child))
                {
                    children.Add(child);
                }
            }
        }
        return anyChildrenFile || !Directory.Exists(Path.Combine(root, Number(pid))) ? children : ChildrenByScan(pid);
    }

    private List<int> ChildrenByScan(int pid)
    {
        var children = new List<int>();
        foreach (var candidate in Processes())
        {
            if (TryReadStat(candidate, out var stat) && stat.ParentPid == pid)
            {
                children.Add(candidate);
            }
        }
        return children;
    }

    private static List<int> NumericEntries(string directory)
    {
        var entries = new List<int>();
        try
        {
            foreach (var path in Directory.EnumerateDirectories(directory))
            {
                if (int.TryParse(Path.GetFileName(path.AsSpan()), out var number))
                {
                    entries.Add(number);
                }
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            // The process exited while being listed.
        }
        return entries;
    }

    private static string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }

    private static string Number(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
