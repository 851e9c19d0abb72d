using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;
using WriteTracer.Native;

namespace WriteTracer.Tracking;

/// <summary>
/// The process tree as /proc shows it. The root directory is a parameter so tests can
/// run it over fixture trees. The files a walk of a large tree reads for every process
/// (stat, task/TID/children) are read into buffers of the call's own, not into strings.
/// </summary>
internal sealed class ProcFs(string root = "/proc")
{
    /// <summary>PID_MAX_LIMIT on 64-bit kernels: no process id is larger.</summary>
    public const int PidMaxLimit = 4_194_304;

    /// <summary>More than a stat line can hold: 52 fields of at most 20 digits and a 64-byte name.</summary>
    private const int StatBytes = 2048;

    /// <summary>Room for ROOT/PID/task/TID/children.</summary>
    private const int PathBytes = 4096;

    public string Root => root;

    /// <summary>False when the process does not exist (or vanished while being read).</summary>
    public bool TryReadStat(int pid, out ProcessStat stat)
    {
        stat = default;
        Span<byte> path = stackalloc byte[PathBytes];
        var buffer = ArrayPool<byte>.Shared.Rent(StatBytes);
        try
        {
            var length = TryReadAll(ProcessFile(path, pid, "stat"), ref buffer);
            if (length <= 0)
            {
                return false;
            }
            Span<char> text = stackalloc char[length];
            var chars = Encoding.UTF8.GetChars(buffer.AsSpan(0, length), text);
            return ProcessStat.TryParse(text[..chars], out stat);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A live process: present, not a zombie, and not a lone thread already exiting (whose exit the
    /// kernel may have reported before it was added to the map).
    /// </summary>
    public bool IsAlive(int pid, out ProcessStat stat) =>
        TryReadStat(pid, out stat) && !stat.IsZombie && !(stat.IsExiting && stat.Threads == 1);

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
        foreach (var pid in NewestFirst(Processes()))
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

    /// <summary>
    /// The pids from the most recently handed out down, wrapping around (the last pid the kernel gave
    /// is loadavg's last field): a caller is most often a process just started (curl, a job's first
    /// step), so a search in this order rarely reads the thousands of processes a large job left sleeping.
    /// </summary>
    private IEnumerable<int> NewestFirst(IReadOnlyList<int> pids)
    {
        var loadavg = TryReadText(Path.Combine(root, "loadavg"));
        var last = loadavg is not null && int.TryParse(loadavg.AsSpan()[(loadavg.LastIndexOf(' ') + 1)..].Trim(), out var newest)
            ? newest : int.MaxValue;
        return pids.OrderBy(pid => pid <= last ? 0 : 1).ThenByDescending(pid => pid);
    }

    /// <summary>Every process id /proc lists.</summary>
    public IReadOnlyList<int> Processes() => NumericEntries(root);

    /// <summary>The largest process id the kernel hands out (sys/kernel/pid_max); the kernel's limit when unreadable.</summary>
    public int PidMax() =>
        int.TryParse(TryReadText(Path.Combine(root, "sys", "kernel", "pid_max")), out var max) && max > 0 ? max : PidMaxLimit;

    public IReadOnlyList<int> Threads(int pid) => NumericEntries(Path.Combine(root, Number(pid), "task"));

    /// <summary>Direct children of every thread of pid (see <see cref="AddChildren"/>).</summary>
    public IReadOnlyList<int> Children(int pid)
    {
        var children = new List<int>();
        AddChildren(pid, threads: 0, children);
        return children;
    }

    /// <summary>
    /// Adds the direct children of every thread of pid to children, from task/TID/children;
    /// where the kernel lacks that file (CONFIG_PROC_CHILDREN=n), by scanning every process's
    /// parent. threads is the process's thread count when known: with 1 (most processes) only
    /// task/PID/children is read, without listing task/.
    /// </summary>
    public void AddChildren(int pid, int threads, List<int> children)
    {
        var anyChildrenFile = false;
        if (threads == 1)
        {
            anyChildrenFile = AddChildrenOf(pid, pid, children);
        }
        else
        {
            foreach (var tid in Threads(pid))
            {
                anyChildrenFile |= AddChildrenOf(pid, tid, children);
            }
        }
        if (!anyChildrenFile && Directory.Exists(Path.Combine(root, Number(pid))))
        {
            AddChildrenByScan(pid, children);
        }
    }

    /// <summary>Adds what task/TID/children lists ("N N … ", each pid followed by a space); false when the file cannot be read.</summary>
    private bool AddChildrenOf(int pid, int tid, List<int> children)
    {
        Span<byte> path = stackalloc byte[PathBytes];
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = TryReadAll(TaskFile(path, pid, tid, "children"), ref buffer);
            if (length < 0)
            {
                return false;
            }
            var child = -1;
            foreach (var b in buffer.AsSpan(0, length))
            {
                if (b is >= (byte)'0' and <= (byte)'9')
                {
                    child = (child < 0 ? 0 : child * 10) + (b - '0');
                }
                else if (child >= 0)
                {
                    children.Add(child);
                    child = -1;
                }
            }
            if (child >= 0)
            {
                children.Add(child);
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void AddChildrenByScan(int pid, List<int> children)
    {
        foreach (var candidate in Processes())
        {
            if (TryReadStat(candidate, out var stat) && stat.ParentPid == pid)
            {
                children.Add(candidate);
            }
        }
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

    /// <summary>ROOT/PID/NAME, NUL-terminated, in path.</summary>
    private ReadOnlySpan<byte> ProcessFile(Span<byte> path, int pid, string name) =>
        Utf8.TryWrite(path, $"{root}/{pid}/{name}\0", out var length) ? path[..length] : default;

    /// <summary>ROOT/PID/task/TID/NAME, NUL-terminated, in path.</summary>
    private ReadOnlySpan<byte> TaskFile(Span<byte> path, int pid, int tid, string name) =>
        Utf8.TryWrite(path, $"{root}/{pid}/task/{tid}/{name}\0", out var length) ? path[..length] : default;

    /// <summary>
    /// Reads the whole file at path (NUL-terminated) into buffer, which is replaced by a larger one
    /// from the pool when the file needs it: the bytes read, or -1 when it cannot be read. Reads
    /// until one returns nothing: a /proc file of many records (children) gives a page per read.
    /// </summary>
    private static unsafe int TryReadAll(ReadOnlySpan<byte> path, ref byte[] buffer)
    {
        if (path.IsEmpty)
        {
            return -1;
        }
        SafeFileHandle file;
        fixed (byte* name = path)
        {
            file = Interop.Libc.Open(name, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC);
        }
        using (file)
        {
            if (file.IsInvalid)
            {
                return -1;
            }
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan().CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                nint read;
                fixed (byte* free = buffer.AsSpan(total))
                {
                    read = Interop.Libc.Read(file, free, (nuint)(buffer.Length - total));
                }
                if (read < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Interop.Libc.EINTR)
                    {
                        continue;
                    }
                    return -1; // gone while being read (ESRCH), or not ours to read
                }
                if (read == 0)
                {
                    return total;
                }
                total += (int)read;
            }
        }
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
